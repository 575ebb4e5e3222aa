import ArgumentParser
import Foundation
import Training

/// Training progress: one line redrawn in place on a terminal, plain lines (one per evaluation) otherwise.
final class ProgressLine {
    private let live = isatty(STDERR_FILENO) == 1
    private var lastDraw = DispatchTime(uptimeNanoseconds: 0)
    private var last: EvaluationRecord?

    func note(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }

    func update(_ progress: RoundProgress) {
        guard live else { return }
        let now = DispatchTime.now()
        guard now.uptimeNanoseconds - lastDraw.uptimeNanoseconds > 200_000_000 || progress.round == progress.totalRounds else { return }
        lastDraw = now
        var text = String(format: "\repoch %.2f  round %d/%d  loss %.4f  %.2f MB/worker  comm %.1f s",
                          progress.epoch, progress.round, progress.totalRounds, progress.trainLoss,
                          progress.megabytesPerWorker, progress.communicationSeconds)
        if let last { text += String(format: "  acc %.2f %% (min %.2f %%)", last.meanAccuracy * 100, last.minAccuracy * 100) }
        FileHandle.standardError.write(Data((text + "\u{1B}[K").utf8))
    }

    func report(_ record: EvaluationRecord) {
        last = record
        let text = String(format: "epoch %.2f  round %d  accuracy %.2f %% (min %.2f %%)  train loss %.4f  test loss %.4f  %.2f MB/worker  comm %.1f s",
                          record.epoch, record.round, record.meanAccuracy * 100, record.minAccuracy * 100, record.trainLoss,
                          record.testLoss, record.megabytesPerWorker, record.communicationSeconds)
        FileHandle.standardError.write(Data(((live ? "\r" : "") + text + (live ? "\u{1B}[K\n" : "\n")).utf8))
    }

}

/// The CSV of a run's evaluations, written as they come (a stopped run keeps what it measured).
final class MetricsFile {
    let path: String
    private let handle: FileHandle
    private let run: String

    init(path: String, run: String) throws {
        self.path = path
        self.run = run
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        guard FileManager.default.createFile(atPath: path, contents: Data("run,\(EvaluationRecord.csvHeader)\n".utf8)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func append(_ record: EvaluationRecord) {
        handle.write(Data("\"\(run)\",\(record.csvLine)\n".utf8))
    }
}

/// Draws metrics CSVs with scripts/plot_metrics.py under the project venv's Python (matplotlib).
enum Plotter {
    static func plot(csvFiles: [String], to output: String) throws {
        guard let root = projectRoot() else {
            throw ValidationError("--plot needs scripts/plot_metrics.py and the project venv (run `make deps` in the checkout)")
        }
        let python = ProcessInfo.processInfo.environment["GOSSIPFL_PYTHON"] ?? "\(root)/.venv/bin/python"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["\(root)/scripts/plot_metrics.py", "--out", output] + csvFiles
        do { try process.run() } catch {
            throw ValidationError("cannot run \(python) for the plot (\(error)); run `make deps` to create the venv")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("plotting failed (exit \(process.terminationStatus))") }
    }

    /// The checkout this binary was built in (…/.build/<config>/gossipfl), or the current directory.
    static func projectRoot() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath]
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<5 {
            url.deleteLastPathComponent()
            candidates.append(url.path)
        }
        return candidates.first { FileManager.default.fileExists(atPath: "\($0)/scripts/plot_metrics.py") }
    }
}
