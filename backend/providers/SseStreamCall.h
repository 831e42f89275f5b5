#pragma once

#include "ModelProvider.h"
#include "SseParser.h"

#include <QByteArray>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

namespace viv {

// One streaming POST whose response is an SSE stream: the shared plumbing of both providers.
// Handles the first-byte and idle timeouts, cancellation (abort + no callback afterwards),
// HTTP error statuses (body read, classified) and transport errors. Subclasses interpret
// the events (onEvent) and produce the final response (onEnd).
class SseStreamCall : public QObject, public ModelCall
{
    Q_OBJECT
public:
    SseStreamCall(QNetworkAccessManager &nam, QNetworkRequest request, const QByteArray &body, ModelSink sink,
                  ProviderTimeouts timeouts);
    ~SseStreamCall() override;
    void cancel() override;

protected:
    // An SSE event arrived. Return an error to end the call with it.
    virtual std::optional<ModelError> onEvent(const SseParser::Event &e) = 0;
    // The stream ended cleanly: the final response, or an error (e.g. truncated stream).
    virtual ModelResult onEnd() = 0;

    ModelSink m_sink;

private:
    void onReadyRead();
    void onFinished();
    void finish(ModelResult result);
    void armIdle(int ms);

    QPointer<QNetworkReply> m_reply;
    QTimer m_timer;
    SseParser m_parser;
    ProviderTimeouts m_timeouts;
    QByteArray m_errorBody;
    QStringList m_secrets; // the request's key (header values), redacted from error messages
    bool m_done = false;
    bool m_gotBytes = false;
};

} // namespace viv
