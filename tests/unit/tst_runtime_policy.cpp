// The runtime's pure pieces, without a backend: the model conversation rebuilt from the event
// log (runtime/Conversation.h buildConversation), the tool policy resolved from an agent and
// its allow / ask / auto decision (runtime/ToolCatalog.h: ToolCatalog::fromAgent, ToolPolicy::decide), and the SSE
// parser's field rules (providers/SseParser.h) beyond tst_parsers' splitting check. The checks
// are in tst_runtime_policy_checks.cpp.

#include <QTest>

namespace runtime_checks {
void queuedMessagesWaitAndSameRolesMerge();
void toolCallsPairWithTheirResultsAndLateUserTextWaits();
void unansweredCallsAreClosedAndStrayResultsDropped();
void filesBecomeNotesAndSummariesAreUserText();
void policiesResolveFromTheAgent();
void modelToolsOfferEachNameOnce();
void autoAllowsReadOnlyBuiltinsOnly();
void decisionsFollowThePolicy();
void sseFieldRules();
void httpStatusesRetriedAsTheSdksDo();
} // namespace runtime_checks

class TestRuntimePolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queuedMessagesWaitAndSameRolesMerge() { runtime_checks::queuedMessagesWaitAndSameRolesMerge(); }
    void toolCallsPairWithTheirResultsAndLateUserTextWaits()
    {
        runtime_checks::toolCallsPairWithTheirResultsAndLateUserTextWaits();
    }
    void unansweredCallsAreClosedAndStrayResultsDropped()
    {
        runtime_checks::unansweredCallsAreClosedAndStrayResultsDropped();
    }
    void filesBecomeNotesAndSummariesAreUserText() { runtime_checks::filesBecomeNotesAndSummariesAreUserText(); }
    void policiesResolveFromTheAgent() { runtime_checks::policiesResolveFromTheAgent(); }
    void modelToolsOfferEachNameOnce() { runtime_checks::modelToolsOfferEachNameOnce(); }
    void autoAllowsReadOnlyBuiltinsOnly() { runtime_checks::autoAllowsReadOnlyBuiltinsOnly(); }
    void decisionsFollowThePolicy() { runtime_checks::decisionsFollowThePolicy(); }
    void sseFieldRules() { runtime_checks::sseFieldRules(); }
    void httpStatusesRetriedAsTheSdksDo() { runtime_checks::httpStatusesRetriedAsTheSdksDo(); }
};

QTEST_GUILESS_MAIN(TestRuntimePolicy)
#include "tst_runtime_policy.moc"
