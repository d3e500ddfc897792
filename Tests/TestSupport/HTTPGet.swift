import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOConcurrencyHelpers

/// The body of a 200 answer to GET `url`, or nil for any other answer or none within `timeout` seconds.
public func httpGet(_ url: String, timeout: Double = 10) -> String? {
    guard let url = URL(string: url) else { return nil }
    var request = URLRequest(url: url)
    request.timeoutInterval = timeout
    let body = NIOLockedValueBox<String?>(nil)
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if (response as? HTTPURLResponse)?.statusCode == 200, let data { body.withLockedValue { $0 = String(decoding: data, as: UTF8.self) } }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + timeout + 1)
    return body.withLockedValue { $0 }
}
