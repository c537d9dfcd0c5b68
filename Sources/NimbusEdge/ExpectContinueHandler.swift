import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` at once with `100 Continue`. boto3 sends it with every PutObject and UploadPart
/// and waits up to a second for the interim answer before sending the body; without it every upload stalls a
/// second. Answering always (rather than only once the operation is known to accept the body) also keeps the
/// connection in step: the client then always sends the body, which the server reads or drains, so an upload refused
/// early (`NoSuchBucket`, `KeyTooLongError`) does not leave the next request to be read as its body.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data),
            head.headerFields[.expect]?.lowercased() == "100-continue"
        {
            context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}

extension ServiceEdge {
    /// The channel handlers the edge's HTTP/1 listener needs beyond Hummingbird's.
    public static func channelHandlers() -> [any RemovableChannelHandler] {
        [ExpectContinueHandler()]
    }
}
