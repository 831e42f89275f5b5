#pragma once

#include <QByteArray>
#include <QHash>
#include <QIODevice>
#include <QLocalSocket>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace viv {

class EgressProxy;
class ProxyStream;

// The host end of a sandbox's `vivarium.proxy` virtio-serial port (a unix socket QEMU binds).
// The guest forwarder (SandboxNetwork::guestForwarderScript) accepts connections on the guest's
// 127.0.0.1:3128 and multiplexes them over the port in frames:
//   u32 stream id | u8 type | u32 payload length | payload      (big endian)
//   type 1 OPEN (guest → host), 2 DATA, 3 CLOSE (either way)
// Each OPEN becomes a ProxyStream (a QIODevice) handed to the sandbox's EgressProxy, which
// applies the policy. Without a proxy set (a warm VM not yet claimed) every stream is
// refused at once. Asynchronous, on the backend thread.
class ProxyChannel : public QObject
{
    Q_OBJECT
public:
    explicit ProxyChannel(QString socketPath, QObject *parent = nullptr);
    ~ProxyChannel() override;

    // Connects, retrying every 50 ms while QEMU has not created the socket yet.
    void open();
    void setProxy(EgressProxy *proxy) { m_proxy = proxy; }
    bool isConnected() const { return m_socket && m_socket->state() == QLocalSocket::ConnectedState; }
    int openStreams() const { return int(m_streams.size()); }

    // Internal (ProxyStream).
    void sendFrame(quint32 id, quint8 type, const QByteArray &payload = {});
    void streamClosedLocally(quint32 id);
    qint64 queuedBytes() const;

Q_SIGNALS:
    void connected();

private:
    void tryConnect();
    void onReadyRead();
    void dropAll();
    QString m_path;
    QLocalSocket *m_socket = nullptr;
    QTimer m_retry;
    QByteArray m_in;
    QHash<quint32, QPointer<ProxyStream>> m_streams;
    QPointer<EgressProxy> m_proxy;
    bool m_closing = false;
};

// One guest connection as a sequential QIODevice.
class ProxyStream : public QIODevice
{
    Q_OBJECT
public:
    ProxyStream(ProxyChannel *channel, quint32 id);
    ~ProxyStream() override;
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_buffer.size() + QIODevice::bytesAvailable(); }
    qint64 bytesToWrite() const override { return m_channel ? m_channel->queuedBytes() : 0; }
    void close() override;
    bool atEnd() const override { return m_remoteClosed && m_buffer.isEmpty(); }

    // From the channel.
    void deliver(const QByteArray &data);
    void remoteClose();
    void detach() { m_channel = nullptr; }

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 maxSize) override;

private:
    QPointer<ProxyChannel> m_channel;
    quint32 m_id;
    QByteArray m_buffer;
    bool m_remoteClosed = false;
};

} // namespace viv
