#pragma once

#include <QHash>
#include <QJsonObject>
#include <QLocalSocket>
#include <QObject>
#include <QTimer>

#include <functional>

namespace viv {

// The host end of the guest agent's virtio-serial channel (a unix socket chardev). Speaks
// newline-delimited JSON (resources/guest/vivarium-agent.c documents the ops); requests carry an id,
// replies and streamed output come back tagged with it, so many requests run at once.
// Lives on the sandbox manager's thread and never blocks it: QLocalSocket is asynchronous.
class GuestChannel : public QObject
{
    Q_OBJECT
public:
    // Called for every message answering a request; `final` is true for the last one
    // (result, error, exit, ready). A closed channel answers pending requests with a final
    // {"type":"error","message":…,"channel_closed":true}.
    using Handler = std::function<void(const QJsonObject &message, bool final)>;

    explicit GuestChannel(QString socketPath, QObject *parent = nullptr);
    ~GuestChannel() override;

    // Connects (retrying while QEMU creates the socket) and sends `hello` until the agent
    // answers; emits ready() or failed(reason) when `timeoutMs` passes.
    void open(int timeoutMs);
    bool isReady() const { return m_ready; }
    // Sends a request; returns its id. Fails (final error) at once when not ready.
    qint64 request(QJsonObject req, Handler handler);
    // Ends every pending request with an error and closes the socket.
    void close(const QString &reason);
    // Drops the socket but keeps the pending requests (a VM saved to disk: its agent and the
    // processes those requests watch live on in the saved state). open() again reconnects
    // (after the restore) and the agent's later messages reach them.
    void detach();

Q_SIGNALS:
    void ready();
    void failed(const QString &reason);
    void closed(const QString &reason);

private:
    void tryConnect();
    void onReadyRead();
    void dispatch(const QJsonObject &msg);
    void failAll(const QString &reason);
    QString m_path;
    QLocalSocket *m_socket = nullptr;
    QTimer m_retry;
    QTimer m_deadline;
    QByteArray m_buffer;
    QHash<qint64, Handler> m_pending;
    qint64 m_nextId = 1;
    bool m_ready = false;
    bool m_closed = false;
};

} // namespace viv
