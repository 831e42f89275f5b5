#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <variant>

class QNetworkAccessManager;

namespace viv {

// ---- what the runtime asks a model for -------------------------------------------------------
//
// The conversation is kept in ONE neutral form, the Anthropic Messages shape (it is the richer
// of the two wire formats): `messages` is an array of {"role": "user"|"assistant", "content":
// [blocks]} with blocks `text`, `image`, `document`, `tool_use` {id, name, input} and
// `tool_result` {tool_use_id, content, is_error}. Roles alternate (the builder merges). The
// OpenAI provider translates this form to chat-completions messages on the wire.
struct ModelRequest
{
    QString model;         // the id the vendor knows (provider prefix already stripped)
    QString system;        // system prompt, may be empty
    QJsonArray messages;   // see above
    QJsonArray tools;      // [{name, description, input_schema}]
    int maxTokens = 8192;
};

struct ModelUsage
{
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheReadInputTokens = 0;
    qint64 cacheCreationInputTokens = 0;
};

// A finished model response in the neutral form: assistant content blocks (`text`,
// `thinking` {thinking}, `tool_use` {id, name, input}), the normalised stop reason
// (end_turn | tool_use | max_tokens | stop_sequence | refusal) and usage.
struct ModelResponse
{
    QJsonArray content;
    QString stopReason;
    ModelUsage usage;
};

// A failed model request, classified the way the runtime reports it (session.error types).
struct ModelError
{
    enum class Kind {
        RateLimited,   // 429                       → model_rate_limited_error, retried
        Overloaded,    // 529 / 503                 → model_overloaded_error, retried
        ServerError,   // other 5xx, 408, 409       → model_request_failed_error, retried
        Transport,     // connection refused/reset, timeout, truncated stream → retried
        RequestFailed, // other 4xx, bad response   → model_request_failed_error, not retried
        NotConfigured, // no base URL / key          → model_request_failed_error, not retried
    };
    Kind kind = Kind::RequestFailed;
    int httpStatus = 0;
    QString message;       // safe to show: never contains the key
    int retryAfterMs = -1; // from Retry-After, when the vendor sent one

    bool retryable() const
    {
        return kind == Kind::RateLimited || kind == Kind::Overloaded || kind == Kind::ServerError
               || kind == Kind::Transport;
    }
    // The session.error `error.type` for this failure.
    QString errorType() const;
};

using ModelResult = std::variant<ModelResponse, ModelError>;

// Stream callbacks. All run on the thread that owns the provider, in wire order; `finished`
// runs exactly once unless the call was cancelled (then nothing runs any more).
struct ModelSink
{
    // A text block starts at content index `index` (previews: event_start).
    std::function<void(int index)> textStarted;
    // More text for the block at `index` (previews: event_delta content_delta).
    std::function<void(int index, const QString &text)> textDelta;
    // Extended thinking began (previews: agent.thinking is start-only).
    std::function<void()> thinkingStarted;
    // The response is complete (or failed). Called once.
    std::function<void(ModelResult result)> finished;
};

// One in-flight streaming request. Destroying or cancel()ing it aborts the HTTP request and
// guarantees that no sink callback runs afterwards.
class ModelCall
{
public:
    virtual ~ModelCall() = default;
    virtual void cancel() = 0;
};

// Where a provider sends its requests. `apiKey` is a secret: it goes into one request header
// and nowhere else (never logged, never put in an error message).
struct ProviderEndpoint
{
    enum class Kind { Anthropic, OpenAi };
    Kind kind = Kind::Anthropic;
    QUrl baseUrl;
    QString apiKey;
    QString source; // human-readable origin for error messages ("environment", "vault vlt_…")

    static QString kindName(Kind k) { return k == Kind::Anthropic ? QStringLiteral("anthropic") : QStringLiteral("openai"); }
};

// Timeouts of one model request: connecting + first byte, and the longest silence between two
// stream chunks. Both end the request as a Transport error (retried).
struct ProviderTimeouts
{
    int firstByteMs = 60000;
    int idleMs = 120000;
};

// A model vendor's wire protocol. Stateless apart from the network manager; one instance serves
// every session.
class ModelProvider
{
public:
    virtual ~ModelProvider() = default;
    virtual std::unique_ptr<ModelCall> start(const ProviderEndpoint &endpoint,
                                             const ModelRequest &request, ModelSink sink) = 0;
};

std::unique_ptr<ModelProvider> makeAnthropicProvider(QNetworkAccessManager &nam, ProviderTimeouts t);
std::unique_ptr<ModelProvider> makeOpenAiProvider(QNetworkAccessManager &nam, ProviderTimeouts t);

// Classifies an HTTP failure status (with the vendor's error body) into a ModelError.
ModelError classifyHttpError(int status, const QByteArray &body, int retryAfterMs);

} // namespace viv
