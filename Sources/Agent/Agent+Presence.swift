import Foundation
import MQTT
import NIOConcurrencyHelpers
import Protocol

extension Agent {
    /// What the retained status says of this agent; the will is its document with `online: false`.
    var status: AgentStatus {
        var capabilities = ["prompt", "messages", "stream", "cancel", "response_topic"]
        if configuration.group != nil { capabilities.append("fleet") }
        if receiver != nil { capabilities.append("push") }
        let limits = AgentStatus.Limits(contextSize: configuration.contextSize, maxPromptBytes: configuration.maxPromptBytes,
                                        maxNewTokens: configuration.maxNewTokens, queueLength: configuration.queueLength,
                                        requestTimeout: configuration.requestTimeout)
        return AgentStatus(device: topics.device, agentVersion: Self.version, model: identity, group: configuration.group,
                           capabilities: capabilities, limits: limits, startedAt: startedAt, instance: instance)
    }

    func statusMessage(online: Bool) -> MQTTMessage {
        MQTTMessage(topic: topics.status, json: status.document(online: online), qos: configuration.qos, retain: true)
    }

    /// A status on this device's own topic. The agent's own come back as an echo; one from another
    /// instance means another agent uses this device id. The broker lets only one client hold
    /// the id and disconnects the other, which reconnects and disconnects the first in turn (and
    /// each disconnection publishes the loser's will, so what either sees of the other is mostly
    /// an offline will): left alone, the two would fight forever. So the older agent (the one
    /// that started first) stops on seeing a rival's status from a newer one, with an error and
    /// exit status 3, which systemd does not restart; the newer one says so and announces itself
    /// again. An earlier run's retained offline status, seen on the first connection, is no rival.
    func noticeStatus(_ message: MQTTMessage) {
        guard let document = try? JSON(parsing: message.payload), let other = document["instance"]?.string, other != instance
        else { return }
        let otherStart = document["started_at"]?.number ?? 0
        let myStart = startedAt.timeIntervalSince1970
        let otherStarted = Date(timeIntervalSince1970: otherStart).description
        // On the first connection an offline status of another instance is an earlier run's, left
        // retained; on a later one, it replaced this agent's own announcement, so another agent
        // connected (and its will was published when the broker disconnected it). An earlier run
        // can look newer after a reboot without a real-time clock, so only a rival counts.
        let rival = document["online"]?.bool == true || connections.load(ordering: .relaxed) > 1
        if rival && (otherStart, other) > (myStart, instance) {
            log.error("a newer agent is online with this device_id; stopping",
                      ["device": topics.device, "instance": instance, "other_instance": other, "other_started_at": otherStarted])
            exitRequest.post(.fatal("another agent (instance \(other), started \(otherStarted)) is online with device_id \(topics.device), and the broker lets only one client hold it; stopping rather than fight over the id. Give each device its own device_id in agent.conf.", status: ExitRequest.duplicateDeviceID))
            return
        }
        if rival {
            log.warn("another agent announced itself with this device_id; if it is still running, it shares device_id \(topics.device) with this one and will stop (give each device its own device_id)",
                     ["device": topics.device, "instance": instance, "other_instance": other, "other_started_at": otherStarted])
        }
        // At most once a second, so two agents can never echo each other at full speed.
        let now = Date()
        let due = lastReannounce.withLockedValue { last -> Bool in
            if let last, now.timeIntervalSince(last) < 1 { return false }
            last = now
            return true
        }
        guard due else { return }
        client?.publish(statusMessage(online: true))
    }

    /// The broker refused the credentials or the client id. A few tries ride out a broker being
    /// reconfigured; after `maxAuthorizationFailures` in a row the agent stops with the reason.
    func refusedByBroker(_ reason: String) {
        let failures = authorizationFailures.add(1, ordering: .relaxed).newValue
        log.error("the broker refused this agent's credentials or client id", ["reason": reason, "attempt": "\(failures)",
                                                                               "user": configuration.broker.username ?? "-"])
        if failures >= Self.maxAuthorizationFailures {
            exitRequest.post(.fatal("the broker at \(configuration.brokerHost):\(configuration.brokerPort) refused this agent \(failures) times in a row (\(reason)); check username and password (or password_file) in agent.conf and the broker's ACL", status: 1))
        }
    }
}
