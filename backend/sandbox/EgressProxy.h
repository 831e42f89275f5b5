#pragma once

#include "NetworkPolicy.h"

#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>

class QIODevice;
class QTcpServer;

namespace viv {

// An `environment_variable` credential as the proxy holds it: in memory only, never logged.
struct ProxyCredential
{
    QString name;           // the env var name (safe to log)
    QByteArray placeholder; // what the guest sees, e.g. vivarium-placeholder-<hex>
    QByteArray secret;      // what upstream gets
    QStringList hosts;      // credential networking.allowed_hosts; empty: unrestricted (any
                            // host the environment's policy admits)
    bool inHeaders = true;  // injection_location.header
    bool inBody = false;    // injection_location.body (Content-Length bodies up to 8 MiB)
};

// An HTTP/1.1 forward proxy for one sandbox: absolute-form requests (`GET http://h/p`) and
// `CONNECT host:port` tunnels, each admitted or refused (403, logged with the host only) by
// the sandbox's NetworkPolicy. One client connection carries one request (the upstream
// request is sent with `Connection: close`), so responses are piped, never parsed.
//
// Credential placeholders are replaced with their secrets in plain-HTTP requests to hosts
// the credential allows. CONNECT tunnels are opaque bytes (TLS is not intercepted): inside
// HTTPS the placeholder reaches the server unchanged. docs/DESIGN.md "Networking" explains
// why and what to do instead.
//
// Clients arrive through attach() (the sandbox's ProxyChannel, one QIODevice per guest
// connection) or through listen() (a loopback TCP listener: host-side clients and tests).
// One instance per sandbox, on the backend thread; everything is asynchronous.
class EgressProxy : public QObject
{
    Q_OBJECT
public:
    explicit EgressProxy(NetworkPolicy policy, QObject *parent = nullptr);
    ~EgressProxy() override;

    const NetworkPolicy &policy() const { return m_policy; }
    void setPolicy(NetworkPolicy policy) { m_policy = std::move(policy); }
    void setCredentials(QList<ProxyCredential> credentials);
    // Exact host names resolved to a fixed address instead of DNS (tests map `*.test` names
    // to 127.0.0.1). Policy checks still see the name the client asked for.
    void setResolverOverrides(const QHash<QString, QHostAddress> &overrides);

    // Listens on a loopback address only (any other address is refused: returns false).
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    quint16 serverPort() const;
    // Serves one client stream; takes ownership (deleted when the exchange ends).
    void attach(QIODevice *client);
    int activeConnections() const { return m_active; }

    // Internal (used by the connection handler).
    struct Target
    {
        QString host;
        quint16 port = 0;
    };
    QHostAddress overrideFor(const QString &host) const;
    QByteArray substitute(QByteArray data, const QString &host, bool headers) const;
    bool needsBodySubstitution(const QString &host) const;
    void connectionFinished() { --m_active; }
    void noteRefusal(const QString &host);

Q_SIGNALS:
    void refused(const QString &host);

private:
    NetworkPolicy m_policy;
    QList<ProxyCredential> m_credentials;
    QHash<QString, QHostAddress> m_overrides;
    QTcpServer *m_server = nullptr;
    int m_active = 0;
};

} // namespace viv
