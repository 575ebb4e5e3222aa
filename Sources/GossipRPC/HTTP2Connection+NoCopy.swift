import CEvent
import CNGHTTP2

extension HTTP2Connection {
    /// NO_COPY: the frame header (9 bytes, copied) and a reference to the message's own memory go
    /// into the socket's output buffer; libevent drops the reference (and our retain) once written.
    func sendData(frame: UnsafeMutablePointer<nghttp2_frame>, header: UnsafePointer<UInt8>,
                  length: Int) -> Int32 {
        guard let bev, let slice = pendingSlice, slice.count == length else {
            return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
        }
        pendingSlice = nil
        let output = bufferevent_get_output(bev)
        let padding = Int(frame.pointee.data.padlen)
        evbuffer_add(output, header, 9)
        if padding > 0 {
            var padLength = UInt8(padding - 1)
            evbuffer_add(output, &padLength, 1)
        }
        let retained = Unmanaged.passRetained(slice.message).toOpaque()
        let added = evbuffer_add_reference(output, slice.message.base + slice.offset, length, { _, _, context in
            Unmanaged<FramedMessage>.fromOpaque(context!).release()
        }, retained)
        if added != 0 {
            Unmanaged<FramedMessage>.fromOpaque(retained).release()
            return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
        }
        if padding > 1 { evbuffer_add(output, [UInt8](repeating: 0, count: padding - 1), padding - 1) }
        return 0
    }
}
