import FleetMonitor
import Testing

@Suite struct BoundedHistoryTests {
    @Test func keepsTheNewestElementsInOrder() {
        var history = BoundedHistory<Int>(capacity: 3)
        for value in 1...7 { history.append(value) }
        #expect(history.elements == [5, 6, 7])
        #expect(history.count == 3)
        #expect(history.first == 5 && history.last == 7)
    }

    @Test func dropsTheOldestWhileStale() {
        var history = BoundedHistory<Int>(capacity: 4)
        for value in 1...6 { history.append(value) }
        history.dropOldest { $0 < 5 }
        #expect(history.elements == [5, 6])
        history.append(7)
        #expect(history.elements == [5, 6, 7])
    }
}
