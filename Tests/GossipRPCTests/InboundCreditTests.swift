@testable import GossipRPC
import Testing

/// Manual flow control: credit goes back to the peer only while what the
/// application has not taken stays within the budget.
@Suite struct InboundCreditTests {
    @Test func creditReturnsAtOnceWithinTheBudget() throws {
        var credit = InboundCredit(budget: 100)
        credit.received(stream: 1, 40)
        let taken = credit.takeReturnable()
        let returned = try #require(taken)
        #expect(returned.streams.map(\.bytes) == [40] && returned.connectionOnly == 0)
        #expect(credit.held == 40, "returned credit is not taken data: it is still held")
        let again = credit.takeReturnable()
        #expect(again == nil, "nothing new to return")
    }

    @Test func overTheBudgetTheWindowsStayClosedUntilTheApplicationTakesData() throws {
        var credit = InboundCredit(budget: 100)
        credit.received(stream: 1, 60)
        _ = credit.takeReturnable()
        credit.received(stream: 3, 60)
        #expect(credit.isOverBudget)
        let overBudget = credit.takeReturnable()
        #expect(overBudget == nil, "over budget: the peer must stop sending")
        credit.received(stream: 3, 10)
        let stillOver = credit.takeReturnable()
        #expect(stillOver == nil)
        credit.released(60)   // the handler took stream 1's message
        let taken = credit.takeReturnable()
        let returned = try #require(taken)
        #expect(returned.streams.count == 1 && returned.streams[0].stream == 3 && returned.streams[0].bytes == 70)
    }

    @Test func bytesOfAClosedStreamGoBackToTheConnectionOnly() throws {
        var credit = InboundCredit(budget: 10)
        credit.received(stream: 5, 50)
        let overBudget = credit.takeReturnable()
        #expect(overBudget == nil)
        credit.streamClosed(5)
        credit.released(50)
        let taken = credit.takeReturnable()
        let returned = try #require(taken)
        #expect(returned.streams.isEmpty && returned.connectionOnly == 50)
        #expect(credit.held == 0)
    }

    @Test func releasingMoreThanHeldCannotGoNegative() {
        var credit = InboundCredit(budget: 10)
        credit.received(stream: 1, 5)
        credit.released(50)
        #expect(credit.held == 0)
    }
}

@Suite struct RateLimitedLogTests {
    @Test func oneLinePerIntervalWithTheSuppressedCount() {
        var log = RateLimitedLog(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(log.shouldLog(now: start) == 0)
        for i in 1...99 { #expect(log.shouldLog(now: start + .milliseconds(i * 10)) == nil) }
        #expect(log.shouldLog(now: start + .seconds(11)) == 99)
        #expect(log.shouldLog(now: start + .seconds(12)) == nil)
    }
}
