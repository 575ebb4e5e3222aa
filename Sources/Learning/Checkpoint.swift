/// A flat parameter vector as named `state_dict` tensors and back: what safetensors files hold.
/// A flat parameter vector as named `state_dict` tensors and back, for a layout.
enum StateDict {
    static func tensors(_ values: [Float], layout: [ParameterTensor]) -> [NamedTensor] {
        layout.map { NamedTensor(name: $0.name, shape: $0.shape, values: Array(values[$0.offset..<($0.offset + $0.count)])) }
    }

    /// The flat vector of tensors that are exactly the layout's (names and shapes), all finite.
    static func values(from tensors: [NamedTensor], layout: [ParameterTensor], architecture: Architecture,
                       path: String) throws(SafeTensorsError) -> [Float] {
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors { byName[tensor.name] = tensor }
        let expected = Set(layout.map(\.name)), found = Set(byName.keys)
        guard expected == found else {
            let missing = expected.subtracting(found).sorted(), extra = found.subtracting(expected).sorted()
            throw SafeTensorsError(path: path, reason: "not a \(architecture) checkpoint: missing \(missing), unexpected \(extra)")
        }
        var values = [Float](repeating: 0, count: layout.reduce(0) { $0 + $1.count })
        for tensor in layout {
            let stored = byName[tensor.name]!
            guard stored.shape == tensor.shape else {
                throw SafeTensorsError(path: path, reason: "\(tensor.name) has shape \(stored.shape), the model needs \(tensor.shape)")
            }
            guard stored.values.allSatisfy(\.isFinite) else {
                throw SafeTensorsError(path: path, reason: "\(tensor.name) holds NaN or infinite values")
            }
            values.replaceSubrange(tensor.offset..<(tensor.offset + tensor.count), with: stored.values)
        }
        return values
    }
}

extension Network {
    public func tensors(_ parameters: [Float]) -> [NamedTensor] {
        precondition(parameters.count == parameterCount)
        return StateDict.tensors(parameters, layout: layout)
    }

    /// The flat vector of a checkpoint that has exactly this model's tensors (names and shapes), all finite.
    public func parameters(from tensors: [NamedTensor], path: String) throws(SafeTensorsError) -> [Float] {
        try StateDict.values(from: tensors, layout: layout, architecture: architecture, path: path)
    }

    public func save(_ parameters: [Float], to path: String, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try SafeTensors.write(tensors(parameters), metadata: metadata.merging(["architecture": architecture.rawValue]) { a, _ in a },
                              to: path)
    }

    public func load(path: String) throws(SafeTensorsError) -> [Float] {
        try parameters(from: SafeTensors.read(path: path).tensors, path: path)
    }
}
