#include "Runtime.h"

#include "OutcomeGrader.h"
#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "services/EventLog.h"
#include "services/SessionService.h"

#include <QPointer>
#include <QTimer>

namespace viv {

using namespace runtime_events;

// ---- SessionRuntime: outcomes (docs/DESIGN.md "Outcomes") ----------------------------------
//
// user.define_outcome queues like a message; when it starts, the agent works on the outcome's
// task (Conversation.cpp shows it the description and rubric). Each time the agent's turn ends
// on its own, the grader — a separate model request with the rubric and the agent's work, never
// part of the agent's conversation — answers satisfied / needs_revision / failed, inside
// span.outcome_evaluation_start … _ongoing … _end. needs_revision sends the feedback back to
// the agent (the _end event is in the log, the conversation shows it) for another turn, until
// satisfied, failed, or max_iterations evaluations: then max_iterations_reached and one final
// agent turn without evaluation. The session stays running throughout and goes idle once.

namespace {

QJsonObject usageJson(const ModelUsage &u)
{
    return QJsonObject{{QStringLiteral("input_tokens"), double(u.inputTokens)},
                       {QStringLiteral("output_tokens"), double(u.outputTokens)},
                       {QStringLiteral("cache_read_input_tokens"), double(u.cacheReadInputTokens)},
                       {QStringLiteral("cache_creation_input_tokens"), double(u.cacheCreationInputTokens)}};
}

} // namespace

void SessionRuntime::startOutcome(const QJsonObject &define)
{
    Outcome o;
    o.id = define.value(QStringLiteral("outcome_id")).toString();
    o.eventId = define.value(kId).toString();
    o.description = define.value(QStringLiteral("description")).toString();
    o.rubric = define.value(QStringLiteral("rubric")).toObject().value(QStringLiteral("content")).toString();
    o.maxIterations = qBound(1, define.value(QStringLiteral("max_iterations")).toInt(3), 20);
    m_outcome = o;
    m_pending.clear();
    m_order.clear();
    m_attempt = 0;
    // Consuming the define event records where the outcome's work began: the conversation shows
    // its task there (EventLog::consumedAt), and outcome_evaluations reports it `running`.
    if (!commit({ev(QStringLiteral("session.status_running"))}, QStringLiteral("running"), {o.eventId})) {
        m_outcome.reset();
        return;
    }
    m_running_since.start();
    requestModel();
}

bool SessionRuntime::outcomeAfterTurn(QList<QJsonObject> &events, const ModelUsage &usage, bool natural)
{
    if (natural && !m_outcome->finalTurn) {
        if (!commit(events, {}, {}, usage))
            return true;
        startEvaluation();
        return true;
    }
    if (natural) { // the acknowledgment turn after max_iterations_reached: the outcome is done
        m_outcome.reset();
        return false;
    }
    // The turn died (retries exhausted, no model configured): the outcome cannot go on.
    events.append(closeOutcome(QStringLiteral("failed"),
                               QStringLiteral("The agent's turn could not be completed (see the session.error), so "
                                              "the outcome was not finished.")));
    return false;
}

void SessionRuntime::startEvaluation()
{
    m_attempt = 0;
    m_outcome->graderUsage = {};
    if (pausedAtBudget(Resume::Grading))
        return;
    const QString startId = ids::make(u"sevt");
    if (!commit({ev(QStringLiteral("span.outcome_evaluation_start"),
                    {{kId, startId}, {QStringLiteral("outcome_id"), m_outcome->id},
                     {QStringLiteral("iteration"), m_outcome->iteration}})}))
        return;
    m_outcome->evalStartId = startId;
    m_outcome->evaluating = true;
    m_phase = Phase::Grading;
    auto session = m_mgr.sessions().document(m_sessionId);
    if (!session)
        return abandon();
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    m_mgr.resolveEndpoint(*session, [self, gen](Result<std::pair<ProviderEndpoint, QString>> r) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Grading)
            return;
        if (!r) {
            ModelError e;
            e.kind = ModelError::Kind::NotConfigured;
            e.message = r.error().message();
            return self->onGraded(e);
        }
        self->m_graderEndpoint = r->first;
        self->m_model = r->second;
        self->sendGraderRequest(r->first, r->second);
    });
}

void SessionRuntime::sendGraderRequest(const ProviderEndpoint &endpoint, const QString &model)
{
    // The grader reads the agent's work since the outcome was defined, in its own context.
    const auto from = m_mgr.log().seqOf(m_outcome->eventId, m_sessionId);
    auto events = m_mgr.log().since(m_sessionId, from.value_or(0));
    if (!events)
        return abandon();
    QList<QJsonObject> work;
    work.reserve(events->size());
    for (const LoggedEvent &e : std::as_const(*events))
        work.append(e.event);
    const ModelRequest req = grader::request(model, m_outcome->description, m_outcome->rubric, work);
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    ModelSink sink;
    sink.finished = [self, gen](ModelResult result) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Grading)
            return;
        if (self->m_graderCall) // drop the finished call after this callback returns
            QTimer::singleShot(0, self, [call = std::shared_ptr<ModelCall>(self->m_graderCall.release())] {});
        self->onGraded(std::move(result));
    };
    m_graderCall = m_mgr.provider(endpoint.kind).start(endpoint, req, std::move(sink));
    // The heartbeat: once as the request leaves, then periodically until the verdict.
    if (!commit({ev(QStringLiteral("span.outcome_evaluation_ongoing"),
                    {{QStringLiteral("outcome_id"), m_outcome->id}, {QStringLiteral("iteration"), m_outcome->iteration}})}))
        return;
    m_heartbeat.start(m_mgr.options().outcomeHeartbeatMs);
}

void SessionRuntime::onGraded(ModelResult result)
{
    m_heartbeat.stop();
    m_graderCall.reset();
    if (auto *error = std::get_if<ModelError>(&result)) {
        if (error->retryable() && m_attempt < m_mgr.options().maxRetries) {
            // Retried inside the evaluation span (the span stays open; the heartbeat says so).
            const RuntimeOptions &o = m_mgr.options();
            const qint64 delay = qMin<qint64>(qint64(o.retryBaseMs) << qMin(m_attempt, 20), o.retryMaxMs);
            ++m_attempt;
            const quint64 gen = m_generation;
            QPointer<SessionRuntime> self(this);
            m_heartbeat.start(m_mgr.options().outcomeHeartbeatMs);
            QTimer::singleShot(int(qMax<qint64>(delay, error->retryAfterMs)), this, [self, gen] {
                if (self && self->m_generation == gen && self->m_phase == Phase::Grading && self->m_outcome)
                    self->sendGraderRequest(self->m_graderEndpoint, self->m_model);
            });
            return;
        }
        QList<QJsonObject> events{closeOutcome(QStringLiteral("failed"),
                                               QStringLiteral("The grader's model request failed: %1").arg(error->message)),
                                  sessionError(error->errorType(), error->message, QStringLiteral("exhausted"))};
        return endTurn(stop(QStringLiteral("retries_exhausted")), events);
    }
    const ModelResponse &resp = std::get<ModelResponse>(result);
    ModelUsage &sum = m_outcome->graderUsage;
    sum.inputTokens += resp.usage.inputTokens;
    sum.outputTokens += resp.usage.outputTokens;
    sum.cacheReadInputTokens += resp.usage.cacheReadInputTokens;
    sum.cacheCreationInputTokens += resp.usage.cacheCreationInputTokens;
    const grader::Verdict v = grader::parse(resp.content);
    if (v.result == u"needs_revision") {
        const bool last = m_outcome->iteration + 1 >= m_outcome->maxIterations;
        const QJsonObject end = closeOutcomeEvent(last ? QStringLiteral("max_iterations_reached") : v.result, v.explanation);
        if (!commit({end}, {}, {}, resp.usage))
            return;
        m_outcome->evaluating = false;
        if (last)
            m_outcome->finalTurn = true; // one acknowledgment turn, no further evaluation
        else
            ++m_outcome->iteration;
        m_attempt = 0;
        return requestModel(); // the feedback is in the log: the agent's next request shows it
    }
    // satisfied or failed: terminal, the session goes idle.
    QList<QJsonObject> events{closeOutcome(v.result, v.explanation)};
    endTurn(stop(QStringLiteral("end_turn")), events, resp.usage);
}

QJsonObject SessionRuntime::closeOutcomeEvent(const QString &result, const QString &explanation) const
{
    return ev(QStringLiteral("span.outcome_evaluation_end"),
              {{QStringLiteral("outcome_evaluation_start_id"), m_outcome->evaluating ? m_outcome->evalStartId : QString()},
               {QStringLiteral("outcome_id"), m_outcome->id},
               {QStringLiteral("iteration"), m_outcome->iteration},
               {QStringLiteral("result"), result},
               {QStringLiteral("explanation"), explanation},
               {QStringLiteral("usage"), usageJson(m_outcome->graderUsage)}});
}

QJsonObject SessionRuntime::closeOutcome(const QString &result, const QString &explanation)
{
    QJsonObject e = closeOutcomeEvent(result, explanation);
    m_outcome.reset();
    m_heartbeat.stop();
    return e;
}

QList<QJsonObject> SessionRuntime::dropOutcomes(const QString &result, const QString &explanation)
{
    QList<QJsonObject> out;
    if (m_outcome)
        out.append(closeOutcome(result, explanation));
    for (const QJsonObject &q : std::as_const(m_queue)) {
        if (q.value(kType).toString() != u"user.define_outcome")
            continue;
        out.append(ev(QStringLiteral("span.outcome_evaluation_end"),
                      {{QStringLiteral("outcome_evaluation_start_id"), QString()},
                       {QStringLiteral("outcome_id"), q.value(QStringLiteral("outcome_id"))},
                       {QStringLiteral("iteration"), 0},
                       {QStringLiteral("result"), result},
                       {QStringLiteral("explanation"), explanation},
                       {QStringLiteral("usage"), usageJson({})}}));
    }
    return out;
}

std::optional<std::pair<qint64, QJsonObject>> SessionRuntime::restoreOutcome(const QList<LoggedEvent> &events,
                                                                             bool pausedBeforeGrading)
{
    const LoggedEvent *define = nullptr;
    int iteration = 0;
    for (const LoggedEvent &le : events) {
        const QString type = le.event.value(kType).toString();
        if (type == u"user.define_outcome") {
            define = &le;
            iteration = 0;
        } else if (define && type == u"span.outcome_evaluation_end"
                   && le.event.value(QStringLiteral("outcome_id")) == define->event.value(QStringLiteral("outcome_id"))) {
            if (le.event.value(QStringLiteral("result")).toString() != u"needs_revision")
                define = nullptr; // terminal (max_iterations_reached included: its last turn is a plain turn)
            else
                iteration = le.event.value(QStringLiteral("iteration")).toInt() + 1;
        }
    }
    if (!define)
        return std::nullopt;
    if (!m_mgr.log().consumedAt(m_sessionId).contains(define->event.value(kId).toString()))
        return std::pair<qint64, QJsonObject>{define->seq, define->event}; // never started: queue it again
    Outcome o;
    o.id = define->event.value(QStringLiteral("outcome_id")).toString();
    o.eventId = define->event.value(kId).toString();
    o.description = define->event.value(QStringLiteral("description")).toString();
    o.rubric = define->event.value(QStringLiteral("rubric")).toObject().value(QStringLiteral("content")).toString();
    o.maxIterations = qBound(1, define->event.value(QStringLiteral("max_iterations")).toInt(3), 20);
    o.iteration = iteration;
    m_outcome = o;
    if (pausedBeforeGrading) {
        m_phase = Phase::BudgetPaused;
        m_resume = Resume::Grading;
    }
    if (m_phase == Phase::AwaitingAction || m_phase == Phase::BudgetPaused)
        return std::nullopt; // it goes on when the answers arrive / the budget is raised
    // Any other unfinished state cannot be resumed faithfully: close it rather than leave it hanging.
    commit({closeOutcome(QStringLiteral("failed"),
                         QStringLiteral("Vivarium restarted while this outcome was in progress; it was not resumed. "
                                        "Define the outcome again to retry."))});
    return std::nullopt;
}

} // namespace viv
