/// A flat parameter vector as named `state_dict` tensors and back: what safetensors files hold.
extension Network {
    public func tensors(_ parameters: [Float]) -> [NamedTensor] {
        precondition(parameters.count == parameterCount)
        return layout.map { NamedTensor(name: $0.name, shape: $0.shape, values: Array(parameters[$0.offset..<($0.offset + $0.count)])) }
    }

    /// The flat vector of a checkpoint that has exactly this model's tensors (names and shapes), all finite.
    public func parameters(from tensors: [NamedTensor], path: String) throws(SafeTensorsError) -> [Float] {
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors { byName[tensor.name] = tensor }
        let expected = Set(layout.map(\.name)), found = Set(byName.keys)
        guard expected == found else {
            let missing = expected.subtracting(found).sorted(), extra = found.subtracting(expected).sorted()
            throw SafeTensorsError(path: path, reason: "not a \(architecture) checkpoint: missing \(missing), unexpected \(extra)")
        }
        var parameters = [Float](repeating: 0, count: parameterCount)
        for tensor in layout {
            let stored = byName[tensor.name]!
            guard stored.shape == tensor.shape else {
                throw SafeTensorsError(path: path, reason: "\(tensor.name) has shape \(stored.shape), the model needs \(tensor.shape)")
            }
            guard stored.values.allSatisfy(\.isFinite) else {
                throw SafeTensorsError(path: path, reason: "\(tensor.name) holds NaN or infinite values")
            }
            parameters.replaceSubrange(tensor.offset..<(tensor.offset + tensor.count), with: stored.values)
        }
        return parameters
    }

    public func save(_ parameters: [Float], to path: String, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try SafeTensors.write(tensors(parameters), metadata: metadata.merging(["architecture": architecture.rawValue]) { a, _ in a },
                              to: path)
    }

    public func load(path: String) throws(SafeTensorsError) -> [Float] {
        try parameters(from: SafeTensors.read(path: path).tensors, path: path)
    }
}
