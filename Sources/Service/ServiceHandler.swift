import Foundation
import NIOCore
import NIOHTTP1

/// What every connection's handler shares: the runner, the work queue and the settings.
struct ServiceState: @unchecked Sendable {
    let runner: CodeRunner
    let queue: WorkQueue
    let configuration: ServiceConfiguration
}

/// The HTTP side of `azr serve`, one per connection, on NIO's HTTP/1.1 codec (keep-alive and pipelining
/// included): routes `POST /run_code` and `GET /v1/ping`, checks the bearer token and body size, and hands
/// each valid request to the work queue, answering on the connection's event loop when the program has run.
final class ServiceHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: ServiceState
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var bodyTooLarge = false
    /// Requests read whose answers are not yet written; an idle connection is closed only when none are.
    private var unanswered = 0

    init(state: ServiceState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
            body.clear()
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            bodyTooLarge = declared > state.configuration.maxBodyBytes
        case var .body(chunk):
            guard !bodyTooLarge else { return }
            if body.readableBytes + chunk.readableBytes > state.configuration.maxBodyBytes {
                bodyTooLarge = true
                body.clear()
                return
            }
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            unanswered += 1
            handle(context: context, head: head)
        }
    }

    /// The pipeline's IdleStateHandler says nothing was read for a while: close the connection unless a
    /// program is still running for it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, unanswered == 0 {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        let keepAlive = head.isKeepAlive
        func detail(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = [], close: Bool = false) {
            respond(context: context, version: head.version, status: status,
                    body: JSONValue.object([("detail", .string(text))]).bytes, keepAlive: keepAlive && !close, headers: headers)
        }
        if bodyTooLarge {
            // The rest of an oversized body was read and dropped; the connection ends with the answer.
            return detail(.payloadTooLarge, "request body larger than \(state.configuration.maxBodyBytes) bytes", close: true)
        }
        if path == "/v1/ping" {
            guard head.method == .GET else { return detail(.methodNotAllowed, "Method Not Allowed", headers: [("allow", "GET")]) }
            return respond(context: context, version: head.version, status: .ok, body: Array("\"pong\"".utf8), keepAlive: keepAlive)
        }
        if let token = state.configuration.token, !Self.authorized(head.headers, token: token) {
            return detail(.unauthorized, "missing or wrong bearer token", headers: [("www-authenticate", "Bearer")])
        }
        guard path == "/run_code" else { return detail(.notFound, "Not Found") }
        guard head.method == .POST else { return detail(.methodNotAllowed, "Method Not Allowed", headers: [("allow", "POST")]) }

        let request: RunCodeRequest
        do {
            request = try RunCodeRequest(json: body.readBytes(length: body.readableBytes) ?? [])
        } catch let refused as RequestProblems {
            return respond(context: context, version: head.version, status: .unprocessableEntity,
                           body: RequestProblem.body(refused.problems).bytes, keepAlive: keepAlive)
        } catch {
            return detail(.unprocessableEntity, "\(error)")
        }
        let channel = context.channel
        let loop = context.eventLoop
        let runner = state.runner
        let accepted = state.queue.submit {
            // A client that gave up while the request waited gets nothing run for it.
            guard channel.isActive else { return }
            let answer = runner.run(request).bytes
            loop.execute {
                self.respond(context: context, version: head.version, status: .ok, body: answer, keepAlive: keepAlive)
            }
        }
        if !accepted {
            detail(.gatewayTimeout, "all \(state.configuration.workers) workers are busy and \(state.configuration.maxQueue) requests wait; retry later")
        }
    }

    /// `Authorization: Bearer <token>`, compared in constant time.
    static func authorized(_ headers: HTTPHeaders, token: String) -> Bool {
        guard let value = headers.first(name: "authorization") else { return false }
        let prefix = "Bearer "
        guard value.count > prefix.count, value.prefix(prefix.count).lowercased() == prefix.lowercased() else { return false }
        let given = Array(value.dropFirst(prefix.count).utf8)
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    private func respond(context: ChannelHandlerContext, version: HTTPVersion, status: HTTPResponseStatus, body: [UInt8],
                         keepAlive: Bool, headers extra: [(String, String)] = []) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        unanswered -= 1
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { written.whenComplete { _ in context.close(promise: nil) } }
    }
}
