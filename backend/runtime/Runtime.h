#pragma once

#include "BeforeIdleHooks.h"
#include "Compaction.h"
#include "Conversation.h"
#include "McpTools.h"
#include "ToolCatalog.h"
#include "ToolExecutor.h"
#include "ToolRouter.h"
#include "core/Result.h"
#include "providers/ModelProvider.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <memory>
#include <optional>

namespace viv {

struct DefaultProviders;
class SessionService;
class EventLog;
class CredentialBroker;
struct LoggedEvent;

// Runtime knobs (environment; see README "Model providers").
struct RuntimeOptions
{
    int maxRetries = 3;          // VIVARIUM_MODEL_MAX_RETRIES: retries after the first attempt
    int retryBaseMs = 2000;      // VIVARIUM_MODEL_RETRY_BASE_MS: backoff base, doubled per retry
    int retryMaxMs = 60000;      // backoff cap
    ProviderTimeouts timeouts;   // VIVARIUM_MODEL_TIMEOUT_MS (first byte), VIVARIUM_MODEL_IDLE_TIMEOUT_MS
    int outcomeHeartbeatMs = 10000; // VIVARIUM_OUTCOME_HEARTBEAT_MS: span.outcome_evaluation_ongoing period
    // VIVARIUM_BEFORE_IDLE_TIMEOUT_MS: the longest a thread waits for its before-idle hooks
    // (memory sync, outputs capture) before it reports idle anyway (BeforeIdleHooks.h).
    int beforeIdleTimeoutMs = 60000;
    static RuntimeOptions fromEnvironment();
};

class RuntimeManager;

// The agent loop of ONE session (see docs/DESIGN.md "Agent runtime"). Every state change is a
// SessionService::commitRuntime() — events and session row in one transaction — so the log is
// always the truth and a restart can rebuild everything from it.
class SessionRuntime : public QObject
{
    Q_OBJECT
    friend class RuntimeManager; // thread routing (SessionThreads.cpp)
public:
    // `threadId` empty: the session's primary thread; else a delegate thread of a multiagent
    // session running roster member `agentName` (SessionThreads.cpp).
    SessionRuntime(RuntimeManager &manager, QString sessionId, QString threadId = {}, QString agentName = {});
    ~SessionRuntime() override;

    // A user event was committed to the log (queued or processed on receipt).
    void onUserEvent(const QJsonObject &event);
    // Start-up: rebuilds pending actions and the queue from the log, then continues.
    void restore();
    // Cancels everything in flight without writing (session deleted, shutdown).
    void abandon();
    // The session was archived: ends the running turn like an interrupt, drops every queued or
    // unconsumed user event, and records why (session.error unknown_error, retry_status
    // exhausted, then session.status_idle end_turn); then abandons. Writes nothing when the
    // session was idle with nothing queued.
    void archive();
    // The session's budget changed (session.updated with `budget`): work paused at the budget
    // resumes when the new budget is above the consumed list cost (SessionRuntimeBudget.cpp).
    void onBudgetChanged();

    const QString &threadId() const { return m_threadId; }

private:
    enum class Phase {
        Idle,
        Resolving,
        Model,
        Tools,
        Backoff,
        AwaitingAction,
        Grading,
        BudgetPaused,
        Compacting,
        Advising,
        Settling // the turn is over; waiting for the before-idle hooks (SessionRuntimeIdle.cpp)
    };
    struct Pending
    {
        bool custom = false;
        QString name;
        QJsonObject input;
        bool resolved = false;
        bool allow = false;
        QString denyMessage;
        QString decisionEventId; // the user.tool_confirmation consumed
    };

    void pump();
    void startTurn(const QJsonObject &message);
    void requestModel(qint64 buildFromNs = -1);
    void sendModelRequest(const ProviderEndpoint &endpoint, const QString &model);
    void onModelFinished(ModelResult result);
    void onModelError(const ModelError &error);
    void failTurn(const ModelError &error);
    void runTools(const QList<QString> &toolUseIds);
    void onToolDone(const QString &toolUseId, const ToolResult &result);
    void afterTools();
    void continueAfterActions();
    QStringList unresolved() const; // pending action ids still unanswered, in call order
    void endTurn(const QJsonObject &stopReason, QList<QJsonObject> extra = {}, const ModelUsage &usage = {});
    void interrupt(const QString &interruptEventId);
    // Stops the turn's work (model call, tools, backoff) and returns the events that close it:
    // the open span's end and an error result (`whileRunning` / `beforeRun`) for each unfinished call.
    QList<QJsonObject> closeTurn(const QString &whileRunning, const QString &beforeRun);
    QStringList dropQueue(); // ids of the queued user.message events, now forgotten
    void measure();
    bool commit(QList<QJsonObject> events, const QString &status = {}, QStringList processed = {},
                const ModelUsage &usage = {});
    double takeActiveSeconds();
    QJsonObject spanEnd(bool isError, const ModelUsage &usage) const;
    void cancelInFlight();

    // ---- going idle after the before-idle hooks (SessionRuntimeIdle.cpp; BeforeIdleHooks.h) ----
    struct GoIdle
    {
        QList<QJsonObject> events;                      // the turn's last events (before the idle)
        std::function<QList<QJsonObject>()> idleEvents; // built when the idle is committed
        QStringList processed;
        ModelUsage usage;
        Phase target = Phase::Idle;  // Idle, AwaitingAction or BudgetPaused
        bool split = false;          // `events` are committed apart from the idle (budget: the
                                     // idle's reason reads the cost they add)
        std::function<void()> after; // once the idle is committed and m_phase is `target`
        // user.interrupt events that arrived while the hooks ran: consumed with the idle.
        bool interrupted = false;
        QStringList interrupts;
        QList<QJsonObject> interruptEvents; // what they ended (outcomes)
    };
    // Runs the before-idle hooks, then commits `g.idleEvents()` with status idle. Without hooks,
    // or when every hook completed at once, `events` and the idle are one commit; else `events`
    // are committed first and the thread waits in Phase::Settling (bounded).
    void goIdle(GoIdle g);
    void finishSettling();
    void interruptWhileSettling(const QString &interruptEventId);
    std::optional<GoIdle> m_settling;

    // ---- outcomes (SessionRuntimeOutcome.cpp; docs/DESIGN.md "Outcomes") ----
    struct Outcome
    {
        QString id;            // outc_…
        QString eventId;       // the user.define_outcome event
        QString description;
        QString rubric;        // text (file rubrics are resolved when the outcome is defined)
        int maxIterations = 3;
        int iteration = 0;     // 0-indexed evaluation cycle
        bool finalTurn = false; // max_iterations_reached: one last agent turn, no evaluation
        QString evalStartId;   // span.outcome_evaluation_start of the open evaluation, if any
        bool evaluating = false;
        ModelUsage graderUsage; // summed over the cycle's grader requests
    };
    void startOutcome(const QJsonObject &define);
    // The agent's turn ended on its own while an outcome is active: evaluate (or, after the
    // final turn, let the turn end). Returns false when the turn should end normally.
    bool outcomeAfterTurn(QList<QJsonObject> &events, const ModelUsage &usage, bool natural);
    void startEvaluation();
    void sendGraderRequest(const ProviderEndpoint &endpoint, const QString &model);
    void onGraded(ModelResult result);
    // The span.outcome_evaluation_end that closes the active outcome with `result`; clears it.
    QJsonObject closeOutcome(const QString &result, const QString &explanation);
    QJsonObject closeOutcomeEvent(const QString &result, const QString &explanation) const; // keeps it
    // Ends the active outcome and every queued one with `result` (interrupt, archive, a flush).
    QList<QJsonObject> dropOutcomes(const QString &result, const QString &explanation);
    // After a restart: the active outcome's state from the log (iteration) when it was waiting
    // for tool answers or paused at the budget (`pausedBeforeGrading`: its evaluation is what the
    // budget held back). Returns the outcome's (seq, define event) when it never started (it
    // queues again); an outcome found in any other unfinished state is closed `failed`.
    std::optional<std::pair<qint64, QJsonObject>> restoreOutcome(const QList<LoggedEvent> &events,
                                                                 bool pausedBeforeGrading);

    // ---- multiagent threads (SessionThreads.cpp; docs/DESIGN.md "Threads") ----
    // The session document as this thread runs it: a delegate thread's `agent` is its roster
    // member's configuration. nullopt when the session is gone.
    std::optional<QJsonObject> sessionDoc();
    bool isThread() const { return !m_threadId.isEmpty(); }
    bool coordinates(); // primary thread of a coordinator session (offers the delegation tools)
    bool multiagent();  // any thread of a coordinator session
    // The log as this thread sees it: its own events only (primary: those without
    // session_thread_id); a delegate's session.thread_status_* read as session.status_*, and a
    // delivered agent.thread_message_received reads as the user.message it is to the model.
    QList<LoggedEvent> ownView(const QList<LoggedEvent> &events) const;
    // commit() of a multiagent session: tags a delegate's events, renames its statuses to
    // session.thread_status_*, and derives the session-level status (any thread running →
    // running; all idle → idle, requires_action listing every thread's open actions).
    void shapeForThreads(QList<QJsonObject> &events, QString &status);
    // list_agents / send_to_agent from the coordinator: the events of the call (tool use,
    // thread creation, the message sent and received, the tool result). False: not a
    // delegation tool.
    bool delegate(const QString &name, const QJsonObject &input, QList<QJsonObject> &events,
                  QList<QJsonObject> &results);
    QJsonArray delegationTools();
    // A delegate thread's turn ended: its last message goes to the coordinator (appended to
    // `events`: agent.thread_message_sent here, agent.thread_message_received on the primary).
    void reportToCoordinator(QList<QJsonObject> &events, const QJsonObject &stopReason);
    // ---- advisor consultations (SessionRuntimeAdvisor.cpp; README "Threads") ----
    // The advisor model of the session's roster (`{"type": "advisor", "model"}`), empty when
    // none; only the primary thread consults it.
    QString advisorModel();
    QJsonArray advisorTools(); // the `advisor` tool offered to the primary thread's model
    // The primary's model called `advisor`: commits `events` (the response, no agent.tool_use for
    // the call), spawns the anthropic.advisor thread and runs the consultation; the turn goes on
    // (tools of the same response, else the next model request) once the advice is delivered.
    void consult(QList<QJsonObject> events, const ModelUsage &usage);
    void sendAdvisorRequest(const ProviderEndpoint &endpoint, const QString &model);
    void onAdvised(ModelResult result);
    // user.interrupt naming the advisor thread: the consultation is abandoned, the turn goes on
    // after a generic notice. False when `threadId` is not a consultation in progress.
    bool interruptAdvisor(const QString &threadId, const QString &interruptEventId);
    // closeTurn() during a consultation: the advisor thread's closing events (terminated, no advice).
    QList<QJsonObject> closeAdvisor();
    void resumeAfterAdvice(const QList<QJsonObject> &events, const QStringList &processed = {});
    std::optional<QString> m_advisorModel;
    std::unique_ptr<ModelCall> m_advisorCall;
    QString m_advisorThread; // the consultation in progress (its session_thread_id)
    QString m_advisorVendorModel;
    QJsonArray m_lastMessages;                // the primary's last request conversation (the advisor reads it)
    QString m_state = QStringLiteral("idle"); // last status this thread committed (aggregation)
    QJsonObject m_lastStop;                  // and its stop reason
    // ---- context compaction (SessionRuntimeCompaction.cpp; runtime/Compaction.h) ----
    // Before an agent request: when `req` nears the model's context window, starts compacting
    // (the request is built again once the summary is recorded) or, when the conversation cannot
    // be made to fit, ends the turn with a session.error. Returns true when it took over.
    bool compactIfNeeded(const ProviderEndpoint &endpoint, const QString &model, const ModelRequest &req,
                         const QList<compaction::Positioned> &log, const std::optional<compaction::Record> &current);
    void sendCompactionRequest();
    void onCompacted(ModelResult result);
    struct Compacting
    {
        ProviderEndpoint endpoint;
        ModelRequest request;
        compaction::Plan plan;
        qint64 estimate = 0;
        qint64 window = 0;
        int attempt = 0;
    };
    std::optional<Compacting> m_compacting;
    std::unique_ptr<ModelCall> m_compactCall;
    bool m_compactedForRequest = false; // a compaction ran (or failed) for the request being built

    // ---- budget (SessionRuntimeBudget.cpp; README "Budgets and usage") ----
    enum class Resume { Model, Grading };
    // Before a model request: when the session's budget is spent, commits session.usage and
    // session.status_idle budget_reached, pauses, and returns true.
    bool pausedAtBudget(Resume resume);
    // The list cost of `usage` at the current model's price (nano-USD).
    qint64 costOf(const ModelUsage &usage) const;

    RuntimeManager &m_mgr;
    const QString m_sessionId;
    const QString m_threadId;
    const QString m_agentName;
    std::optional<QJsonObject> m_threadAgent; // resolved roster member (delegate threads)
    std::optional<bool> m_multiagent;
    Phase m_phase = Phase::Idle;
    QList<QJsonObject> m_queue;              // user.message events not started yet, in order
    QStringList m_order;                     // tool_use ids of the current response, in order
    QHash<QString, Pending> m_pending;       // tool_use id → action awaited from the client
    QStringList m_toRun;                     // allowed built-in tool_use ids of the response
    QHash<QString, std::shared_ptr<ToolExecution>> m_running;
    QHash<QString, ToolCall> m_calls;
    std::unique_ptr<ModelCall> m_call;
    QTimer m_backoff;
    int m_attempt = 0;
    QString m_spanStartId;
    QHash<int, QString> m_previewIds;        // content index → pre-assigned agent.message id
    QHash<int, QString> m_previewText;       // content index → text streamed so far (previewed)
    QString m_thinkingId;
    QElapsedTimer m_running_since;
    QString m_model;                         // vendor model id of the session (prices, grader)
    std::optional<Outcome> m_outcome;
    std::unique_ptr<ModelCall> m_graderCall;
    ProviderEndpoint m_graderEndpoint;
    QTimer m_heartbeat;                      // span.outcome_evaluation_ongoing while grading
    Resume m_resume = Resume::Model;         // what a raised budget resumes
    quint64 m_generation = 0;                // bumps on interrupt: stale async answers are ignored
    bool m_restoring = false;                // restore() replays logged answers: no re-emitted idles
    bool m_mcpRetry = true;                  // MCP servers that failed are retried (next running transition)
    // Tools allowed for the rest of the session (an applied user.tool_confirmation with
    // vivarium_scope "session"): tool name → that confirmation's id. Rebuilt from the log by restore().
    QHash<QString, QString> m_sessionAllowed;
    // Per-turn overhead measurement (bench, RuntimeManager::turnMeasured): the build of the
    // model request that ended the turn (requestModel() → request handed to the network,
    // excluding keychain waits; for a turn's first request from startTurn(), so the
    // session.status_running commit counts; the span.model_request_start commit follows and
    // overlaps the round trip), then the tail
    // from the response's completion (the sink's `finished`) to session.status_idle committed.
    QElapsedTimer m_clock;
    qint64 m_buildNs = 0;
    qint64 m_buildFromNs = -1;
    qint64 m_lastByteNs = -1;
};

// Owns the per-session runtimes, the providers and the tool executor; routes committed user
// events to their session; recovers sessions after a crash (start()).
class RuntimeManager : public QObject
{
    Q_OBJECT
public:
    // `providers` are the default endpoints (the Config they belong to may change them later:
    // Backend::setProviderDefaults; read on each turn).
    RuntimeManager(const DefaultProviders &providers, SessionService &sessions, EventLog &log, CredentialBroker &credentials,
                   QObject *parent = nullptr);
    ~RuntimeManager() override;

    // Recovery + resuming queues (call once the services are up and the collaborators below
    // are installed).
    void start();

    // Collaborators, installed from outside (runtime/RuntimeModule: installRuntime), never
    // constructed here. The model provider of each endpoint kind (they may share network()).
    void setModelProvider(ProviderEndpoint::Kind kind, std::unique_ptr<ModelProvider> provider);
    QNetworkAccessManager &network() { return m_nam; }
    // The executor of built-in tools (the no-sandbox one, then the sandbox module's, replacing it).
    void setToolExecutor(std::unique_ptr<ToolExecutor> executor);
    // The sessions' MCP connections (runtime/McpTools): tools offered, and the router's executor
    // for MCP calls.
    void setMcpTools(std::unique_ptr<McpTools> mcp);
    // Work that must finish before a session thread reports idle (the sandbox's memory sync and
    // outputs capture; BeforeIdleHooks.h). Register at start-up, before sessions run.
    void addBeforeIdleHook(const QString &name, BeforeIdleHooks::Hook hook) { m_beforeIdle.add(name, std::move(hook)); }
    const BeforeIdleHooks &beforeIdleHooks() const { return m_beforeIdle; }

    // Where each allowed tool call runs, by its toolset (runtime/ToolRouter.h).
    ToolRouter &router() { return m_router; }
    ToolExecutor &tools() { return *m_router.executor(Toolset::Builtin); } // built-in tools
    McpTools &mcp() { return *m_mcp; }
    // Ends a session for good (hard TTL, backend/sandbox/SessionTtl): in-flight work is cancelled,
    // an open span and unfinished tool calls are closed, then session.error (unknown_error,
    // retry_status terminal, `message`) and session.status_terminated are committed with the
    // row's status `terminated`.
    void terminateSession(const QString &sessionId, const QString &message);

    SessionService &sessions() { return m_sessions; }
    EventLog &log() { return m_log; }
    const RuntimeOptions &options() const { return m_options; }

    // Which provider, endpoint and vendor model id serve this session (README "Model
    // providers"). Asynchronous: an LLM vault's token comes from the keychain.
    void resolveEndpoint(const QJsonObject &session,
                         const std::function<void(Result<std::pair<ProviderEndpoint, QString>>)> &done);
    ModelProvider &provider(ProviderEndpoint::Kind kind);

Q_SIGNALS:
    // Backend overhead of the model round that ended a turn (benchmarks, tests/bench):
    // `buildNs` = request build (session + endpoint resolution, conversation rebuilt from the log,
    // request serialised and handed to the network; span.model_request_start is committed right
    // after, while the request is in flight);
    // `tailNs` = provider response complete → session.status_idle committed and fanned out.
    // Emitted right after that commit, on the backend thread.
    void turnMeasured(const QString &sessionId, qint64 buildNs, qint64 tailNs);
    // A stream-only live preview of the model response in progress, exactly as SSE subscribers
    // that opted in get it: `event_start` (`event.type` = `previewedType`, `event.id` = the id the
    // committed agent.message / agent.thinking will carry) or `event_delta` (`event_id`,
    // `delta.content` = the new text blocks). Never persisted; a preview whose event is never
    // committed (interrupt, error) simply ends with the span.model_request_end of its request.
    // Emitted on the backend thread for every preview, whether or not anyone subscribes by SSE;
    // the SSE hub gets them through this signal too (Backend connects it first).
    void previewed(const QString &sessionId, const QString &previewedType, const QJsonObject &preview);

public:
    // Every runtime of the session: its primary first, then its delegate threads.
    QList<SessionRuntime *> runtimesOf(const QString &sessionId) const;
    // A delegate thread's runtime (created on first use).
    SessionRuntime *threadRuntime(const QString &sessionId, const QString &threadId, const QString &agentName);

private:
    friend class SessionRuntime;
    // Threads: routes a committed event of a multiagent session (SessionThreads.cpp). True
    // when handled (the event was for a delegate thread or needs every thread).
    bool routeThreadEvent(const QString &sessionId, const QJsonObject &event);
    // Start-up: closes delegate threads that were running (like recoverSession) and restores
    // the others (requires_action, queued reports).
    void recoverThreads(const QString &sessionId, bool wasRunning);
    void dropThreads(const QString &sessionId, bool archive);
    // Announces a preview (previewed()): the SSE hub and in-process listeners fan it out.
    void preview(const QString &sessionId, const QString &previewedType, const QJsonObject &preview);
    void onAppended(const QString &sessionId, const QList<LoggedEvent> &events);
    SessionRuntime *runtime(const QString &sessionId);
    void recoverSession(const QString &sessionId);
    // Events that close a session's open span and unfinished tool calls (error results saying
    // `toolText`) and its active outcome (span.outcome_evaluation_end `failed`, `outcomeText`).
    // Only the events of `threadId` count (empty: the primary thread's).
    QList<QJsonObject> closingEvents(const QString &sessionId, const QString &toolText, const QString &outcomeText,
                                     const QString &threadId = {});

    const DefaultProviders &m_providers;
    SessionService &m_sessions;
    EventLog &m_log;
    CredentialBroker &m_credentials;
    RuntimeOptions m_options;
    QNetworkAccessManager m_nam;
    std::unique_ptr<ModelProvider> m_anthropic;
    std::unique_ptr<ModelProvider> m_openai;
    // The router owns the built-in executor; m_mcp is only attached to it. Destroyed first (as
    // before the router existed), McpTools drops its in-flight saves while the built-in
    // executor that runs them still exists.
    ToolRouter m_router;
    std::unique_ptr<McpTools> m_mcp;
    BeforeIdleHooks m_beforeIdle;
    QHash<QString, SessionRuntime *> m_runtimes;
    QHash<QString, QHash<QString, SessionRuntime *>> m_threads; // session → thread id → delegate runtime
    QSet<QString> m_archived; // sessions archived while this process runs
};

} // namespace viv
