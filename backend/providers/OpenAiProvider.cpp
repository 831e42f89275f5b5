// OpenAI chat completions, streaming (POST {base}/chat/completions, "stream": true) — the
// protocol OpenAI, Ollama (/v1), vLLM and llama.cpp's server speak. The neutral (Anthropic
// shaped) conversation is translated here: tool_use blocks become assistant `tool_calls`,
// tool_result blocks become `role: tool` messages, tools become `function` tools.

#include "SseStreamCall.h"

#include <QJsonDocument>
#include <QMap>
#include <QNetworkAccessManager>

namespace viv {

namespace {

QUrl completionsUrl(const QUrl &base)
{
    QUrl u = base;
    QString path = u.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    u.setPath(path + QStringLiteral("/chat/completions"));
    return u;
}

QString textOf(const QJsonValue &content)
{
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const QJsonValue &b : content.toArray()) {
        const QJsonObject o = b.toObject();
        if (o.value(QStringLiteral("type")).toString() == u"text")
            parts << o.value(QStringLiteral("text")).toString();
    }
    return parts.join(u'\n');
}

// One neutral message → one or more chat-completions messages.
void translate(const QJsonObject &message, QJsonArray &out)
{
    const QString role = message.value(QStringLiteral("role")).toString();
    const QJsonArray blocks = message.value(QStringLiteral("content")).toArray();
    if (role == u"assistant") {
        QStringList text;
        QJsonArray calls;
        for (const QJsonValue &v : blocks) {
            const QJsonObject b = v.toObject();
            const QString type = b.value(QStringLiteral("type")).toString();
            if (type == u"text") {
                text << b.value(QStringLiteral("text")).toString();
            } else if (type == u"tool_use") {
                calls.append(QJsonObject{
                    {QStringLiteral("id"), b.value(QStringLiteral("id"))},
                    {QStringLiteral("type"), QStringLiteral("function")},
                    {QStringLiteral("function"),
                     QJsonObject{{QStringLiteral("name"), b.value(QStringLiteral("name"))},
                                 {QStringLiteral("arguments"),
                                  QString::fromUtf8(QJsonDocument(b.value(QStringLiteral("input")).toObject())
                                                        .toJson(QJsonDocument::Compact))}}}});
            }
        }
        QJsonObject m{{QStringLiteral("role"), QStringLiteral("assistant")},
                      {QStringLiteral("content"), text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text.join(u'\n'))}};
        if (!calls.isEmpty())
            m.insert(QStringLiteral("tool_calls"), calls);
        out.append(m);
        return;
    }
    // user: tool results first (they must follow the assistant's tool_calls), then the rest.
    QJsonArray parts;
    for (const QJsonValue &v : blocks) {
        const QJsonObject b = v.toObject();
        const QString type = b.value(QStringLiteral("type")).toString();
        if (type == u"tool_result") {
            QString content = textOf(b.value(QStringLiteral("content")));
            if (b.value(QStringLiteral("is_error")).toBool())
                content = QStringLiteral("[error] ") + content;
            out.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")},
                                   {QStringLiteral("tool_call_id"), b.value(QStringLiteral("tool_use_id"))},
                                   {QStringLiteral("content"), content}});
        } else if (type == u"text") {
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                     {QStringLiteral("text"), b.value(QStringLiteral("text"))}});
        } else if (type == u"image") {
            const QJsonObject src = b.value(QStringLiteral("source")).toObject();
            const QString url = src.value(QStringLiteral("type")).toString() == u"base64"
                                    ? QStringLiteral("data:%1;base64,%2")
                                          .arg(src.value(QStringLiteral("media_type")).toString(),
                                               src.value(QStringLiteral("data")).toString())
                                    : src.value(QStringLiteral("url")).toString();
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                                     {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), url}}}});
        }
    }
    if (parts.isEmpty())
        return;
    // Plain text as a string: the widest compatibility (some local servers reject part arrays).
    bool allText = true;
    for (const QJsonValue &p : std::as_const(parts))
        allText = allText && p.toObject().value(QStringLiteral("type")).toString() == u"text";
    out.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                           {QStringLiteral("content"), allText ? QJsonValue(textOf(parts)) : QJsonValue(parts)}});
}

// An error inside a 200 stream has no HTTP status. Servers put a number in `code` (vLLM,
// llama.cpp) or OpenAI's strings in `code` / `type` (rate_limit_exceeded, server_error, …);
// map them to the status the same error would have had, so retries classify alike.
int statusOfStreamError(const QJsonObject &err)
{
    const QJsonValue code = err.value(QStringLiteral("code"));
    bool numeric = false;
    const int n = code.isDouble() ? code.toInt() : code.toString().toInt(&numeric);
    if ((code.isDouble() || numeric) && n >= 400 && n < 600)
        return n;
    const QString what = (code.toString() + u' ' + err.value(QStringLiteral("type")).toString()).toLower();
    if (what.contains(QStringLiteral("rate_limit")) || what.contains(QStringLiteral("quota")))
        return 429;
    if (what.contains(QStringLiteral("overloaded")))
        return 529;
    if (what.contains(QStringLiteral("invalid_request")) || what.contains(QStringLiteral("context_length")))
        return 400;
    return 500;
}

class OpenAiCall final : public SseStreamCall
{
public:
    using SseStreamCall::SseStreamCall;

protected:
    std::optional<ModelError> onEvent(const SseParser::Event &e) override
    {
        if (e.data.trimmed() == "[DONE]") {
            m_done = true;
            return std::nullopt;
        }
        const QJsonObject o = QJsonDocument::fromJson(e.data).object();
        if (o.contains(QStringLiteral("error"))) {
            return classifyHttpError(statusOfStreamError(o.value(QStringLiteral("error")).toObject()), e.data, -1);
        }
        const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
        if (!usage.isEmpty()) {
            m_usage.inputTokens = qint64(usage.value(QStringLiteral("prompt_tokens")).toDouble());
            m_usage.outputTokens = qint64(usage.value(QStringLiteral("completion_tokens")).toDouble());
            m_usage.cacheReadInputTokens = qint64(usage.value(QStringLiteral("prompt_tokens_details"))
                                                      .toObject().value(QStringLiteral("cached_tokens")).toDouble());
            // OpenAI counts cached tokens inside prompt_tokens; report them once, like Anthropic.
            m_usage.inputTokens = qMax<qint64>(0, m_usage.inputTokens - m_usage.cacheReadInputTokens);
        }
        const QJsonArray choices = o.value(QStringLiteral("choices")).toArray();
        if (choices.isEmpty())
            return std::nullopt;
        const QJsonObject choice = choices.first().toObject();
        const QJsonObject delta = choice.value(QStringLiteral("delta")).toObject();
        for (const char *key : {"reasoning_content", "reasoning"}) {
            const QString r = delta.value(QLatin1StringView(key)).toString();
            if (!r.isEmpty()) {
                if (!m_thinking && m_sink.thinkingStarted)
                    m_sink.thinkingStarted();
                m_thinking = true;
                m_thinkingText += r;
            }
        }
        const QString text = delta.value(QStringLiteral("content")).toString();
        if (!text.isEmpty()) {
            if (!m_hasText && m_sink.textStarted)
                m_sink.textStarted(kTextIndex);
            m_hasText = true;
            m_text += text;
            if (m_sink.textDelta)
                m_sink.textDelta(kTextIndex, text);
        }
        for (const QJsonValue &v : delta.value(QStringLiteral("tool_calls")).toArray()) {
            const QJsonObject tc = v.toObject();
            const int index = tc.value(QStringLiteral("index")).toInt(int(m_calls.size()));
            Call &c = m_calls[index];
            if (tc.contains(QStringLiteral("id")) && !tc.value(QStringLiteral("id")).toString().isEmpty())
                c.id = tc.value(QStringLiteral("id")).toString();
            const QJsonObject fn = tc.value(QStringLiteral("function")).toObject();
            c.name += fn.value(QStringLiteral("name")).toString();
            c.arguments += fn.value(QStringLiteral("arguments")).toString().toUtf8();
        }
        const QString finish = choice.value(QStringLiteral("finish_reason")).toString();
        if (!finish.isEmpty())
            m_finish = finish;
        return std::nullopt;
    }

    ModelResult onEnd() override
    {
        if (!m_done && m_finish.isEmpty()) {
            ModelError e;
            e.kind = ModelError::Kind::Transport;
            e.message = QStringLiteral("the model stream ended before a finish_reason");
            return e;
        }
        ModelResponse r;
        if (m_thinking)
            r.content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("thinking")},
                                         {QStringLiteral("thinking"), m_thinkingText}});
        if (m_hasText)
            r.content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                         {QStringLiteral("text"), m_text}});
        int n = 0;
        for (auto it = m_calls.cbegin(); it != m_calls.cend(); ++it, ++n) {
            QJsonObject input;
            if (!it->arguments.trimmed().isEmpty()) {
                QJsonParseError pe;
                const QJsonDocument doc = QJsonDocument::fromJson(it->arguments, &pe);
                if (!doc.isObject()) {
                    ModelError e;
                    e.kind = ModelError::Kind::RequestFailed;
                    e.message = QStringLiteral("the model's arguments for tool %1 are not a JSON object (%2)")
                                    .arg(it->name, pe.errorString());
                    return e;
                }
                input = doc.object();
            }
            r.content.append(QJsonObject{
                {QStringLiteral("type"), QStringLiteral("tool_use")},
                {QStringLiteral("id"), it->id.isEmpty() ? QStringLiteral("call_%1").arg(n) : it->id},
                {QStringLiteral("name"), it->name},
                {QStringLiteral("input"), input}});
        }
        if (m_finish == u"tool_calls" || (!m_calls.isEmpty() && m_finish != u"length"))
            r.stopReason = QStringLiteral("tool_use");
        else if (m_finish == u"length")
            r.stopReason = QStringLiteral("max_tokens");
        else if (m_finish == u"content_filter")
            r.stopReason = QStringLiteral("refusal");
        else
            r.stopReason = QStringLiteral("end_turn");
        r.usage = m_usage;
        return r;
    }

private:
    static constexpr int kTextIndex = 0;
    struct Call
    {
        QString id;
        QString name;
        QByteArray arguments;
    };
    QMap<int, Call> m_calls;
    QString m_text;
    QString m_thinkingText;
    QString m_finish;
    ModelUsage m_usage;
    bool m_hasText = false;
    bool m_thinking = false;
    bool m_done = false;
};

class OpenAiProvider final : public ModelProvider
{
public:
    OpenAiProvider(QNetworkAccessManager &nam, ProviderTimeouts t) : m_nam(nam), m_timeouts(t) {}

    std::unique_ptr<ModelCall> start(const ProviderEndpoint &endpoint, const ModelRequest &request,
                                     ModelSink sink) override
    {
        QJsonArray messages;
        if (!request.system.isEmpty())
            messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                        {QStringLiteral("content"), request.system}});
        for (const QJsonValue &m : request.messages)
            translate(m.toObject(), messages);
        QJsonObject body{{QStringLiteral("model"), request.model},
                         {QStringLiteral("stream"), true},
                         {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}},
                         {QStringLiteral("max_tokens"), request.maxTokens},
                         {QStringLiteral("messages"), messages}};
        if (!request.tools.isEmpty()) {
            QJsonArray tools;
            for (const QJsonValue &t : request.tools) {
                const QJsonObject o = t.toObject();
                tools.append(QJsonObject{
                    {QStringLiteral("type"), QStringLiteral("function")},
                    {QStringLiteral("function"),
                     QJsonObject{{QStringLiteral("name"), o.value(QStringLiteral("name"))},
                                 {QStringLiteral("description"), o.value(QStringLiteral("description"))},
                                 {QStringLiteral("parameters"), o.value(QStringLiteral("input_schema"))}}}});
            }
            body.insert(QStringLiteral("tools"), tools);
        }
        QNetworkRequest req(completionsUrl(endpoint.baseUrl));
        if (!endpoint.apiKey.isEmpty())
            req.setRawHeader("Authorization", "Bearer " + endpoint.apiKey.toUtf8());
        return std::make_unique<OpenAiCall>(m_nam, req, QJsonDocument(body).toJson(QJsonDocument::Compact),
                                            std::move(sink), m_timeouts);
    }

private:
    QNetworkAccessManager &m_nam;
    ProviderTimeouts m_timeouts;
};

} // namespace

std::unique_ptr<ModelProvider> makeOpenAiProvider(QNetworkAccessManager &nam, ProviderTimeouts t)
{
    return std::make_unique<OpenAiProvider>(nam, t);
}

} // namespace viv
