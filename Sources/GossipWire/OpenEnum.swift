/// A proto3 enum: open, so values this code has no name for still round-trip.
/// protoc-c imports its C enums as structs over `UInt32`; the wire value is
/// an int32, so conversions reinterpret the bits.
protocol OpenEnum: RawRepresentable where RawValue == Int32 {
    init(rawValue: Int32)
}

extension OpenEnum {
    init<C: RawRepresentable>(c: C) where C.RawValue == UInt32 {
        self.init(rawValue: Int32(bitPattern: c.rawValue))
    }

    func c<C: RawRepresentable>(_: C.Type = C.self) -> C where C.RawValue == UInt32 {
        C(rawValue: UInt32(bitPattern: rawValue))!
    }
}
