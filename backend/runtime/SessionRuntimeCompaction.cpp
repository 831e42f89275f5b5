#include "Runtime.h"

#include "ContextWindows.h"
#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "services/EventLog.h"

#include <QPointer>
#include <QTimer>

namespace viv {

using namespace runtime_events;

// ---- SessionRuntime: context compaction (README "Context compaction") ---------------------
//
// Before each agent request the runtime estimates its size (compaction::estimate). At
// kTriggerPercent (80 %) of the model's context window (ContextWindows) the older turns are
// summarised by a separate request — same provider and model, the compactor's own system prompt,
// no tools — while the session stays running (Phase::Compacting). The summary is stored
// (context_compactions), then agent.thread_context_compacted is committed with the summary
// request's usage (so session usage, list cost and the budget count it), and the agent request is
// built again: summary first, then the turns after the cut. At most one compaction runs per
// request: when the result still does not fit the window (or nothing can be summarised), the turn
// ends with session.error compaction_limit_reached_error. A failed summary request is retried
// like an agent request; when it finally fails the turn goes on uncompacted if the request still
// fits the window, and otherwise ends with a session.error saying why.

bool SessionRuntime::compactIfNeeded(const ProviderEndpoint &endpoint, const QString &model, const ModelRequest &req,
                                     const QList<compaction::Positioned> &log,
                                     const std::optional<compaction::Record> &current)
{
    const std::optional<qint64> window = ContextWindows::instance().window(model);
    if (!window)
        return false; // unknown window (a local model not configured): never compacted
    const qint64 estimate = compaction::estimate(req, log, current);
    if (estimate < *window * compaction::kTriggerPercent / 100) {
        m_compactedForRequest = false;
        return false;
    }
    if (!m_compactedForRequest) {
        if (auto plan = compaction::plan(log, current, *window)) {
            m_compacting =
                Compacting{endpoint, compaction::request(model, *plan, *window), *plan, estimate, *window, 0};
            m_phase = Phase::Compacting;
            sendCompactionRequest();
            return true;
        }
    }
    m_compactedForRequest = false;
    if (estimate < *window)
        return false; // above the trigger but still inside the window: go on
    endTurn(stop(QStringLiteral("retries_exhausted")),
            {sessionError(QStringLiteral("compaction_limit_reached_error"),
                          QStringLiteral("The conversation (about %1 tokens) does not fit the context window of %2 (%3 "
                                         "tokens), even after context compaction: what is left is the summary, the "
                                         "most recent turns, the system prompt and the tool definitions.")
                              .arg(estimate)
                              .arg(model)
                              .arg(*window),
                          QStringLiteral("exhausted"))});
    return true;
}

void SessionRuntime::sendCompactionRequest()
{
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    ModelSink sink;
    sink.finished = [self, gen](ModelResult result) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Compacting)
            return;
        if (self->m_compactCall) // drop the finished call after this callback returns
            QTimer::singleShot(0, self, [call = std::shared_ptr<ModelCall>(self->m_compactCall.release())] {});
        self->onCompacted(std::move(result));
    };
    m_compactCall = m_mgr.provider(m_compacting->endpoint.kind)
                        .start(m_compacting->endpoint, m_compacting->request, std::move(sink));
}

void SessionRuntime::onCompacted(ModelResult result)
{
    m_compactCall.reset();
    Compacting &c = *m_compacting;
    QString failure;
    QString errorType = QStringLiteral("model_request_failed_error");
    if (auto *error = std::get_if<ModelError>(&result)) {
        if (error->retryable() && c.attempt < m_mgr.options().maxRetries) {
            const RuntimeOptions &o = m_mgr.options();
            const qint64 delay = qMin<qint64>(qint64(o.retryBaseMs) << qMin(c.attempt, 20), o.retryMaxMs);
            ++c.attempt;
            const quint64 gen = m_generation;
            QPointer<SessionRuntime> self(this);
            QTimer::singleShot(int(qMax<qint64>(delay, error->retryAfterMs)), this, [self, gen] {
                if (self && self->m_generation == gen && self->m_phase == Phase::Compacting && self->m_compacting)
                    self->sendCompactionRequest();
            });
            return;
        }
        failure = error->message;
        errorType = error->errorType();
    }
    ModelUsage usage;
    QString summary;
    if (auto *resp = std::get_if<ModelResponse>(&result)) {
        usage = resp->usage;
        summary = compaction::summaryOf(resp->content);
        if (summary.isEmpty())
            failure = QStringLiteral("the summary request answered no text");
    }
    const Compacting done = std::move(c);
    m_compacting.reset();
    m_compactedForRequest = true; // one compaction per request: the next build goes on or fails
    m_phase = Phase::Resolving;
    if (failure.isEmpty()) {
        const compaction::Record record{ids::make(u"sevt"), done.plan.boundary, summary};
        if (auto s = compaction::save(m_mgr.log().database(), m_sessionId, record); !s) {
            failure = QStringLiteral("the summary could not be stored: %1").arg(s.error().message());
        } else {
            // The summary request's tokens are the session's too (usage, list cost, budget).
            if (!commit({ev(QStringLiteral("agent.thread_context_compacted"), {{kId, record.eventId}})}, {}, {}, usage))
                return;
            return requestModel();
        }
    }
    if (usage.inputTokens || usage.outputTokens) {
        // A summary that could not be used still cost its tokens.
        if (!commit({}, {}, {}, usage))
            return;
    }
    if (done.estimate < done.window) {
        qCWarning(lcRuntime).noquote() << "session" << m_sessionId << "context compaction failed (" << failure
                                       << "); the request still fits the window, going on uncompacted";
        return requestModel();
    }
    endTurn(stop(QStringLiteral("retries_exhausted")),
            {sessionError(errorType,
                          QStringLiteral("Context compaction failed (%1), and the conversation (about %2 tokens) does "
                                         "not fit the model's context window (%3 tokens) without it.")
                              .arg(failure)
                              .arg(done.estimate)
                              .arg(done.window),
                          QStringLiteral("exhausted"))});
}

} // namespace viv
