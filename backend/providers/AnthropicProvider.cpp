// Anthropic Messages API, streaming (POST {base}/v1/messages, "stream": true).
// Wire events: message_start (usage), content_block_start (text | thinking | tool_use),
// content_block_delta (text_delta | thinking_delta | signature_delta | input_json_delta),
// content_block_stop, message_delta (stop_reason, usage), message_stop, ping, error.

#include "SseStreamCall.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>

namespace viv {

namespace {

QUrl messagesUrl(const QUrl &base)
{
    QUrl u = base;
    QString path = u.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    if (!path.endsWith(QStringLiteral("/v1")))
        path += QStringLiteral("/v1");
    u.setPath(path + QStringLiteral("/messages"));
    return u;
}

qint64 num(const QJsonObject &o, const char *key)
{
    return qint64(o.value(QLatin1StringView(key)).toDouble());
}

class AnthropicCall final : public SseStreamCall
{
public:
    using SseStreamCall::SseStreamCall;

protected:
    std::optional<ModelError> onEvent(const SseParser::Event &e) override
    {
        const QJsonObject o = QJsonDocument::fromJson(e.data).object();
        const QString type = o.value(QStringLiteral("type")).toString();
        if (type == u"message_start") {
            applyUsage(o.value(QStringLiteral("message")).toObject().value(QStringLiteral("usage")).toObject());
        } else if (type == u"content_block_start") {
            const int index = o.value(QStringLiteral("index")).toInt();
            QJsonObject block = o.value(QStringLiteral("content_block")).toObject();
            const QString btype = block.value(QStringLiteral("type")).toString();
            if (btype == u"tool_use")
                block.insert(QStringLiteral("input"), QJsonObject{});
            while (m_blocks.size() <= index)
                m_blocks.append(QJsonObject{});
            m_blocks[index] = block;
            if (m_partialJson.size() <= index)
                m_partialJson.resize(index + 1);
            if (btype == u"text") {
                if (m_sink.textStarted)
                    m_sink.textStarted(index);
                const QString initial = block.value(QStringLiteral("text")).toString();
                if (!initial.isEmpty() && m_sink.textDelta)
                    m_sink.textDelta(index, initial);
            } else if (btype == u"thinking" && m_sink.thinkingStarted) {
                m_sink.thinkingStarted();
            }
        } else if (type == u"content_block_delta") {
            const int index = o.value(QStringLiteral("index")).toInt();
            if (index < 0 || index >= m_blocks.size())
                return protocolError(QStringLiteral("a content_block_delta for an unknown block %1").arg(index));
            const QJsonObject d = o.value(QStringLiteral("delta")).toObject();
            const QString dtype = d.value(QStringLiteral("type")).toString();
            QJsonObject &block = m_blocks[index];
            if (dtype == u"text_delta") {
                const QString t = d.value(QStringLiteral("text")).toString();
                block.insert(QStringLiteral("text"), QString(block.value(QStringLiteral("text")).toString() + t));
                if (m_sink.textDelta)
                    m_sink.textDelta(index, t);
            } else if (dtype == u"thinking_delta") {
                block.insert(QStringLiteral("thinking"),
                             QString(block.value(QStringLiteral("thinking")).toString()
                                     + d.value(QStringLiteral("thinking")).toString()));
            } else if (dtype == u"signature_delta") {
                block.insert(QStringLiteral("signature"), d.value(QStringLiteral("signature")).toString());
            } else if (dtype == u"input_json_delta") {
                m_partialJson[index] += d.value(QStringLiteral("partial_json")).toString().toUtf8();
            }
        } else if (type == u"content_block_stop") {
            const int index = o.value(QStringLiteral("index")).toInt();
            if (index >= 0 && index < m_blocks.size()
                && m_blocks[index].value(QStringLiteral("type")).toString() == u"tool_use"
                && !m_partialJson[index].trimmed().isEmpty()) {
                QJsonParseError pe;
                const QJsonDocument input = QJsonDocument::fromJson(m_partialJson[index], &pe);
                if (!input.isObject())
                    return protocolError(QStringLiteral("tool_use input is not a JSON object (%1)").arg(pe.errorString()));
                m_blocks[index].insert(QStringLiteral("input"), input.object());
            }
        } else if (type == u"message_delta") {
            const QJsonObject d = o.value(QStringLiteral("delta")).toObject();
            if (d.contains(QStringLiteral("stop_reason")) && !d.value(QStringLiteral("stop_reason")).isNull())
                m_stopReason = d.value(QStringLiteral("stop_reason")).toString();
            applyUsage(o.value(QStringLiteral("usage")).toObject());
        } else if (type == u"message_stop") {
            m_stopped = true;
        } else if (type == u"error") {
            // An error inside a 200 stream (e.g. overloaded_error mid-stream).
            const QJsonObject err = o.value(QStringLiteral("error")).toObject();
            const QString etype = err.value(QStringLiteral("type")).toString();
            const int status = etype == u"overloaded_error" ? 529
                               : etype == u"rate_limit_error" ? 429
                               : etype == u"api_error"        ? 500
                                                              : 400;
            return classifyHttpError(status, QJsonDocument(o).toJson(QJsonDocument::Compact), -1);
        }
        return std::nullopt;
    }

    ModelResult onEnd() override
    {
        if (!m_stopped) {
            ModelError e;
            e.kind = ModelError::Kind::Transport;
            e.message = QStringLiteral("the model stream ended before message_stop");
            return e;
        }
        ModelResponse r;
        for (const QJsonObject &b : std::as_const(m_blocks)) {
            if (!b.isEmpty())
                r.content.append(b);
        }
        r.stopReason = m_stopReason.isEmpty() ? QStringLiteral("end_turn") : m_stopReason;
        if (r.stopReason == u"pause_turn")
            r.stopReason = QStringLiteral("end_turn");
        r.usage = m_usage;
        return r;
    }

private:
    void applyUsage(const QJsonObject &u)
    {
        if (u.contains(QStringLiteral("input_tokens")))
            m_usage.inputTokens = num(u, "input_tokens");
        if (u.contains(QStringLiteral("output_tokens")))
            m_usage.outputTokens = num(u, "output_tokens");
        if (u.contains(QStringLiteral("cache_read_input_tokens")))
            m_usage.cacheReadInputTokens = num(u, "cache_read_input_tokens");
        if (u.contains(QStringLiteral("cache_creation_input_tokens")))
            m_usage.cacheCreationInputTokens = num(u, "cache_creation_input_tokens");
    }
    static ModelError protocolError(const QString &message)
    {
        ModelError e;
        e.kind = ModelError::Kind::RequestFailed;
        e.message = QStringLiteral("unexpected model stream: ") + message;
        return e;
    }

    QList<QJsonObject> m_blocks;
    QList<QByteArray> m_partialJson;
    QString m_stopReason;
    ModelUsage m_usage;
    bool m_stopped = false;
};

class AnthropicProvider final : public ModelProvider
{
public:
    AnthropicProvider(QNetworkAccessManager &nam, ProviderTimeouts t) : m_nam(nam), m_timeouts(t) {}

    std::unique_ptr<ModelCall> start(const ProviderEndpoint &endpoint, const ModelRequest &request,
                                     ModelSink sink) override
    {
        QJsonObject body{{QStringLiteral("model"), request.model},
                         {QStringLiteral("max_tokens"), request.maxTokens},
                         {QStringLiteral("stream"), true},
                         {QStringLiteral("messages"), request.messages}};
        if (!request.system.isEmpty())
            body.insert(QStringLiteral("system"), request.system);
        if (!request.tools.isEmpty())
            body.insert(QStringLiteral("tools"), request.tools);
        QNetworkRequest req(messagesUrl(endpoint.baseUrl));
        req.setRawHeader("anthropic-version", "2023-06-01");
        if (!endpoint.apiKey.isEmpty())
            req.setRawHeader("x-api-key", endpoint.apiKey.toUtf8());
        return std::make_unique<AnthropicCall>(m_nam, req, QJsonDocument(body).toJson(QJsonDocument::Compact),
                                               std::move(sink), m_timeouts);
    }

private:
    QNetworkAccessManager &m_nam;
    ProviderTimeouts m_timeouts;
};

} // namespace

std::unique_ptr<ModelProvider> makeAnthropicProvider(QNetworkAccessManager &nam, ProviderTimeouts t)
{
    return std::make_unique<AnthropicProvider>(nam, t);
}

} // namespace viv
