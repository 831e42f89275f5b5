// Vaults and credentials through the real HTTP API, with secrets in a real keychain
// (gnome-keyring in a private D-Bus session: run under tests/run-with-keyring.sh).
//
// What is proved: CRUD, pagination, archive and delete of vaults; every credential auth type
// created, retrieved, listed, rotated, archived and deleted; secrets are readable through
// VaultService::readSecrets but never appear in a response body nor in the SQLite files;
// deleting (or archiving) removes the keychain entries; bad input is a 400 that writes
// nothing; wrong ids are 404s; without a keychain a credential create is a clear 503 that
// writes no row (checked in a child process that has no D-Bus session).

#include "ApiHarness.h"

#include "core/Ids.h"
#include "secrets/SecretStore.h"
#include "services/VaultService.h"
#include "store/Database.h"

#include <QCoreApplication>
#include <QSet>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTest>
#include <QUrlQuery>

#include <cstdio>

using namespace viv;
using namespace viv::test;

namespace {
const QString kChildMode = QStringLiteral("vaults-nokeychain");

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}
QJsonObject obj(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toObject();
}
QString errorMessage(const HttpResult &r)
{
    return r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}
} // namespace

// Shared helpers of both test classes below (no slots here, so no tests of its own).
class VaultsFixture : public QObject
{
    Q_OBJECT
protected:
    std::unique_ptr<ApiHarness> h;
    QStringList m_secrets;  // every secret value this test has sent
    QList<QByteArray> m_bodies; // every response body this test has received

    QString newSecret(const char *label)
    {
        const QString s = ApiHarness::recordSecret(QString::fromLatin1(label) + QStringLiteral("-") + ids::secret(18));
        m_secrets << s;
        return s;
    }

    HttpResult call(const QByteArray &method, const QString &path, const QJsonObject &body = {})
    {
        HttpResult r = body.isEmpty() && method != "POST"
                           ? h->request(method, path)
                           : h->request(method, path, QJsonDocument(body).toJson(QJsonDocument::Compact));
        m_bodies << r.body;
        return r;
    }
    HttpResult post(const QString &path, const QJsonObject &body) { return call("POST", path, body); }
    HttpResult get(const QString &path) { return call("GET", path); }
    HttpResult del(const QString &path) { return call("DELETE", path); }

    QString makeVault(const QString &name = QStringLiteral("Test vault"))
    {
        auto r = post(QStringLiteral("/v1/vaults"), {{QStringLiteral("display_name"), name}});
        if (r.status != 200)
            qWarning("vault create failed: %s", r.body.constData());
        return str(r.json(), "id");
    }
    static QString credPath(const QString &vault, const QString &cred = {})
    {
        return QStringLiteral("/v1/vaults/%1/credentials").arg(vault)
               + (cred.isEmpty() ? QString() : u'/' + cred);
    }

    Result<QJsonObject> readSecrets(const QString &credentialId)
    {
        std::optional<Result<QJsonObject>> out;
        h->backend->vaults().readSecrets(credentialId, [&](Result<QJsonObject> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 20000))
            return ApiError::internal(QStringLiteral("timed out"));
        return *out;
    }
    // Straight to the keychain, bypassing the service.
    Result<QByteArray> keychainEntry(const QString &credentialId)
    {
        return h->backend->secrets().readBlocking(credentialId);
    }
    void verifyNoKeychainEntry(const QString &credentialId)
    {
        auto entry = keychainEntry(credentialId);
        QVERIFY2(!entry.ok(), "keychain entry still present");
        QCOMPARE(entry.error().kind(), ApiError::Kind::NotFound);
    }
    // A response must never carry a secret sent so far.
    void verifyNoSecretIn(const QByteArray &body)
    {
        for (const QString &s : std::as_const(m_secrets))
            QVERIFY2(!body.contains(s.toUtf8()), "a secret value appears in a response body");
    }
    // The exact non-secret key set of an auth object in a response.
    static QStringList keys(const QJsonObject &o)
    {
        QStringList k = o.keys();
        k.sort();
        return k;
    }
};

class TestApiVaults : public VaultsFixture
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
    }

    // ---- vaults ---------------------------------------------------------------------------

    void vaultCrud()
    {
        auto c = post(QStringLiteral("/v1/vaults"),
                      {{QStringLiteral("display_name"), QStringLiteral("Alice")},
                       {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("external_user_id"), QStringLiteral("usr_1")},
                                                                {QStringLiteral("tier"), QStringLiteral("gold")}}}});
        QCOMPARE(c.status, 200);
        const QJsonObject v = c.json();
        const QString id = str(v, "id");
        QVERIFY(ids::looksLike(u"vlt", id));
        QCOMPARE(str(v, "type"), QStringLiteral("vault"));
        QCOMPARE(str(v, "display_name"), QStringLiteral("Alice"));
        QCOMPARE(str(obj(v, "metadata"), "tier"), QStringLiteral("gold"));
        QVERIFY(v.value(QStringLiteral("archived_at")).isNull());
        QVERIFY(!str(v, "created_at").isEmpty());
        QCOMPARE(str(v, "created_at"), str(v, "updated_at"));
        QCOMPARE(keys(v), (QStringList{QStringLiteral("archived_at"), QStringLiteral("created_at"),
                                       QStringLiteral("display_name"), QStringLiteral("id"),
                                       QStringLiteral("metadata"), QStringLiteral("type"),
                                       QStringLiteral("updated_at")}));

        auto g = get(QStringLiteral("/v1/vaults/") + id);
        QCOMPARE(g.status, 200);
        QCOMPARE(g.json(), v);

        QTest::qWait(5);
        auto u = post(QStringLiteral("/v1/vaults/") + id,
                      {{QStringLiteral("display_name"), QStringLiteral("Alice B.")},
                       {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("tier"), QJsonValue::Null},
                                                                {QStringLiteral("team"), QStringLiteral("x")}}}});
        QCOMPARE(u.status, 200);
        QCOMPARE(str(u.json(), "display_name"), QStringLiteral("Alice B."));
        const QJsonObject md = obj(u.json(), "metadata");
        QCOMPARE(md, (QJsonObject{{QStringLiteral("external_user_id"), QStringLiteral("usr_1")},
                                  {QStringLiteral("team"), QStringLiteral("x")}}));
        QVERIFY(str(u.json(), "updated_at") > str(v, "updated_at"));
        QCOMPARE(str(u.json(), "created_at"), str(v, "created_at"));

        // An empty update changes nothing but is accepted.
        auto e = post(QStringLiteral("/v1/vaults/") + id, QJsonObject{});
        QCOMPARE(e.status, 200);
        QCOMPARE(str(e.json(), "display_name"), QStringLiteral("Alice B."));

        auto d = del(QStringLiteral("/v1/vaults/") + id);
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("type"), QStringLiteral("vault_deleted")}}));
        QCOMPARE(get(QStringLiteral("/v1/vaults/") + id).status, 404);
        QCOMPARE(del(QStringLiteral("/v1/vaults/") + id).status, 404);
    }

    void vaultListPaginationAndArchive()
    {
        // A fresh backend makes counting simple.
        QStringList made;
        for (int i = 0; i < 5; ++i)
            made << makeVault(QStringLiteral("page-%1").arg(i));
        QStringList seen;
        QString page;
        int pages = 0;
        do {
            QUrlQuery q;
            q.addQueryItem(QStringLiteral("limit"), QStringLiteral("2"));
            if (!page.isEmpty())
                q.addQueryItem(QStringLiteral("page"), page);
            auto r = get(QStringLiteral("/v1/vaults?") + q.toString(QUrl::FullyEncoded));
            QCOMPARE(r.status, 200);
            const QJsonArray data = r.json().value(QStringLiteral("data")).toArray();
            QVERIFY(data.size() <= 2);
            for (const auto &v : data)
                seen << str(v.toObject(), "id");
            const QJsonValue next = r.json().value(QStringLiteral("next_page"));
            page = next.isNull() ? QString() : next.toString();
            ++pages;
        } while (!page.isEmpty() && pages < 50);
        for (const QString &id : made)
            QVERIFY(seen.contains(id));
        QCOMPARE(seen.size(), QSet<QString>(seen.begin(), seen.end()).size()); // no duplicates
        // Newest first.
        QVERIFY(seen.indexOf(made.last()) < seen.indexOf(made.first()));

        // Archive: stamped, hidden from the default list, shown with include_archived.
        const QString archivedId = made.at(2);
        std::optional<QSignalSpy> spy;
        spy.emplace(&h->backend->vaults(), &VaultService::vaultChanged);
        auto a = post(QStringLiteral("/v1/vaults/%1/archive").arg(archivedId), {});
        QCOMPARE(a.status, 200);
        const QString archivedAt = str(a.json(), "archived_at");
        QVERIFY(!archivedAt.isEmpty());
        QCOMPARE(spy->size(), 1);
        auto again = post(QStringLiteral("/v1/vaults/%1/archive").arg(archivedId), {});
        QCOMPARE(again.status, 200);
        QCOMPARE(str(again.json(), "archived_at"), archivedAt); // idempotent

        auto listDefault = get(QStringLiteral("/v1/vaults?limit=100"));
        QStringList defaultIds;
        for (const auto &v : listDefault.json().value(QStringLiteral("data")).toArray())
            defaultIds << str(v.toObject(), "id");
        QVERIFY(!defaultIds.contains(archivedId));
        QVERIFY(defaultIds.contains(made.at(1)));
        auto listAll = get(QStringLiteral("/v1/vaults?limit=100&include_archived=true"));
        QStringList allIds;
        for (const auto &v : listAll.json().value(QStringLiteral("data")).toArray())
            allIds << str(v.toObject(), "id");
        QVERIFY(allIds.contains(archivedId));

        // An archived vault is read-only.
        auto upd = post(QStringLiteral("/v1/vaults/") + archivedId, {{QStringLiteral("display_name"), QStringLiteral("x")}});
        QCOMPARE(upd.status, 409);
        QCOMPARE(upd.errorType(), QStringLiteral("invalid_request_error"));
        auto cc = post(credPath(archivedId), {{QStringLiteral("auth"), QJsonObject{
            {QStringLiteral("type"), QStringLiteral("static_bearer")},
            {QStringLiteral("token"), newSecret("archived-vault")},
            {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.example.com/mcp")}}}});
        QCOMPARE(cc.status, 409);
        // …but can still be deleted.
        QCOMPARE(del(QStringLiteral("/v1/vaults/") + archivedId).status, 200);

        QCOMPARE(get(QStringLiteral("/v1/vaults?limit=0")).status, 400);
        QCOMPARE(get(QStringLiteral("/v1/vaults?include_archived=maybe")).status, 400);
        QCOMPARE(get(QStringLiteral("/v1/vaults?page=%%%")).status, 400);
    }

    void vaultBadInputIs400AndWritesNothing()
    {
        const QString keep = makeVault(QStringLiteral("keep"));
        const int before = h->rowCount(QStringLiteral("vaults"));
        const QList<QByteArray> bodies{
            QByteArrayLiteral("{"),
            QByteArrayLiteral("[]"),
            QByteArrayLiteral("{}"),
            QByteArrayLiteral("{\"display_name\": 5}"),
            QByteArrayLiteral("{\"display_name\": \"\"}"),
            QByteArrayLiteral("{\"display_name\": null}"),
            QByteArrayLiteral("{\"display_name\": \"a\", \"bogus\": 1}"),
            QByteArrayLiteral("{\"display_name\": \"a\", \"metadata\": {\"k\": 1}}"),
            QByteArrayLiteral("{\"display_name\": \"a\", \"metadata\": \"x\"}"),
            "{\"display_name\": \"" + QByteArray(256, 'n') + "\"}",
        };
        for (const QByteArray &b : bodies) {
            auto r = h->postRaw(QStringLiteral("/v1/vaults"), b);
            QVERIFY2(r.status == 400, b.constData());
            QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
            QVERIFY(!errorMessage(r).isEmpty());
        }
        QJsonObject tooMany;
        for (int i = 0; i < 17; ++i)
            tooMany.insert(QStringLiteral("k%1").arg(i), QStringLiteral("v"));
        QCOMPARE(post(QStringLiteral("/v1/vaults"), {{QStringLiteral("display_name"), QStringLiteral("a")},
                                                      {QStringLiteral("metadata"), tooMany}}).status, 400);
        QCOMPARE(h->rowCount(QStringLiteral("vaults")), before);

        // Updates: bad input changes nothing.
        const QJsonObject original = get(QStringLiteral("/v1/vaults/") + keep).json();
        for (const QByteArray &b : {QByteArrayLiteral("{\"display_name\": \"\"}"), QByteArrayLiteral("{\"x\": 1}"),
                                    QByteArrayLiteral("{\"metadata\": {\"a\": 2}}"), QByteArrayLiteral("nope")}) {
            auto r = h->postRaw(QStringLiteral("/v1/vaults/") + keep, b);
            QVERIFY2(r.status == 400, b.constData());
        }
        QCOMPARE(get(QStringLiteral("/v1/vaults/") + keep).json(), original);
        QCOMPARE(post(QStringLiteral("/v1/vaults/vlt_01doesnotexist"), {{QStringLiteral("display_name"), QStringLiteral("x")}}).status, 404);
        QCOMPARE(post(QStringLiteral("/v1/vaults/vlt_01doesnotexist/archive"), {}).status, 404);
    }

    // ---- credentials, one per auth type -----------------------------------------------------

    void staticBearerLifecycle()
    {
        const QString vault = makeVault();
        const QString token = newSecret("bearer");
        auto c = post(credPath(vault), {{QStringLiteral("display_name"), QStringLiteral("GitHub")},
                                        {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("k"), QStringLiteral("v")}}},
                                        {QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                             {QStringLiteral("token"), token},
                                             {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.github.example/mcp")}}}});
        QCOMPARE(c.status, 200);
        verifyNoSecretIn(c.body);
        const QJsonObject cred = c.json();
        const QString id = str(cred, "id");
        QVERIFY(ids::looksLike(u"vcrd", id));
        QCOMPARE(str(cred, "type"), QStringLiteral("vault_credential"));
        QCOMPARE(str(cred, "vault_id"), vault);
        QCOMPARE(str(cred, "display_name"), QStringLiteral("GitHub"));
        QCOMPARE(obj(cred, "metadata"), (QJsonObject{{QStringLiteral("k"), QStringLiteral("v")}}));
        QVERIFY(cred.value(QStringLiteral("archived_at")).isNull());
        QCOMPARE(obj(cred, "auth"), (QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                 {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.github.example/mcp")}}));

        auto secrets = readSecrets(id);
        QVERIFY2(secrets.ok(), secrets.ok() ? "" : qPrintable(secrets.error().message()));
        QCOMPARE(*secrets, (QJsonObject{{QStringLiteral("token"), token}}));

        auto g = get(credPath(vault, id));
        QCOMPARE(g.status, 200);
        QCOMPARE(g.json(), cred);
        auto l = get(credPath(vault));
        QCOMPARE(l.status, 200);
        QCOMPARE(l.json().value(QStringLiteral("data")).toArray(), QJsonArray{cred});
        QVERIFY(l.json().value(QStringLiteral("next_page")).isNull());

        // Rotation.
        const QString rotated = newSecret("bearer-rotated");
        auto u = post(credPath(vault, id), {{QStringLiteral("auth"), QJsonObject{
                                                 {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                 {QStringLiteral("token"), rotated}}},
                                            {QStringLiteral("display_name"), QStringLiteral("GitHub (rotated)")}});
        QCOMPARE(u.status, 200);
        verifyNoSecretIn(u.body);
        QCOMPARE(str(u.json(), "display_name"), QStringLiteral("GitHub (rotated)"));
        QCOMPARE(obj(u.json(), "auth"), obj(cred, "auth"));
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("token"), rotated}}));

        // A non-secret update keeps the secret.
        auto u2 = post(credPath(vault, id), {{QStringLiteral("metadata"), QJsonObject{{QStringLiteral("k"), QJsonValue::Null}}},
                                             {QStringLiteral("display_name"), QJsonValue::Null}});
        QCOMPARE(u2.status, 200);
        QCOMPARE(obj(u2.json(), "metadata"), QJsonObject{});
        QVERIFY(u2.json().value(QStringLiteral("display_name")).isNull());
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("token"), rotated}}));

        // Immutable / wrong-type updates are 400 and change nothing.
        const QJsonObject beforeBad = get(credPath(vault, id)).json();
        for (const QJsonObject &auth : {
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")}, {QStringLiteral("mcp_server_url"), QStringLiteral("https://other.example/mcp")}},
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("mcp_oauth")}, {QStringLiteral("access_token"), QStringLiteral("x")}},
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")}, {QStringLiteral("token"), QStringLiteral("")}},
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")}, {QStringLiteral("token"), 12}},
                 QJsonObject{{QStringLiteral("token"), QStringLiteral("no-type")}}}) {
            auto r = post(credPath(vault, id), {{QStringLiteral("auth"), auth}});
            QVERIFY2(r.status == 400, r.body.constData());
            QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
        }
        QCOMPARE(post(credPath(vault, id), {{QStringLiteral("display_name"), QStringLiteral("")}}).status, 400);
        QCOMPARE(get(credPath(vault, id)).json(), beforeBad);
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("token"), rotated}}));

        // Archive purges the secret and keeps the record.
        auto a = post(credPath(vault, id) + QStringLiteral("/archive"), {});
        QCOMPARE(a.status, 200);
        QVERIFY(!str(a.json(), "archived_at").isEmpty());
        QCOMPARE(obj(a.json(), "auth"), obj(cred, "auth"));
        verifyNoKeychainEntry(id);
        auto afterArchive = readSecrets(id);
        QVERIFY(!afterArchive.ok());
        QCOMPARE(get(credPath(vault, id)).status, 200);
        QCOMPARE(get(credPath(vault)).json().value(QStringLiteral("data")).toArray().size(), 0);
        QCOMPARE(get(credPath(vault) + QStringLiteral("?include_archived=true")).json().value(QStringLiteral("data")).toArray().size(), 1);
        QCOMPARE(post(credPath(vault, id), {{QStringLiteral("display_name"), QStringLiteral("x")}}).status, 409);
        auto a2 = post(credPath(vault, id) + QStringLiteral("/archive"), {});
        QCOMPARE(a2.status, 200);
        QCOMPARE(str(a2.json(), "archived_at"), str(a.json(), "archived_at"));

        // The URL is free again once the old credential is archived.
        const QString token2 = newSecret("bearer-2");
        auto c2 = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                              {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                              {QStringLiteral("token"), token2},
                                              {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.github.example/mcp")}}}});
        QCOMPARE(c2.status, 200);
        QVERIFY(c2.json().value(QStringLiteral("display_name")).isNull());
        const QString id2 = str(c2.json(), "id");
        QCOMPARE(*readSecrets(id2), (QJsonObject{{QStringLiteral("token"), token2}}));

        // Delete: keychain entry and row are gone.
        QSignalSpy removed(&h->backend->vaults(), &VaultService::credentialRemoved);
        auto d = del(credPath(vault, id2));
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{QStringLiteral("id"), id2}, {QStringLiteral("type"), QStringLiteral("vault_credential_deleted")}}));
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.at(0).at(0).toString(), vault);
        QCOMPARE(removed.at(0).at(1).toString(), id2);
        verifyNoKeychainEntry(id2);
        QCOMPARE(get(credPath(vault, id2)).status, 404);
        QCOMPARE(del(credPath(vault, id2)).status, 404);
        // The archived one can be deleted too.
        QCOMPARE(del(credPath(vault, id)).status, 200);
        QCOMPARE(get(credPath(vault) + QStringLiteral("?include_archived=true")).json().value(QStringLiteral("data")).toArray().size(), 0);
    }

    void environmentVariableLifecycle()
    {
        const QString vault = makeVault();
        const QString value = newSecret("envvar");
        auto c = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("environment_variable")},
                                             {QStringLiteral("secret_name"), QStringLiteral("STRIPE_API_KEY")},
                                             {QStringLiteral("secret_value"), value},
                                             {QStringLiteral("networking"), QJsonObject{
                                                  {QStringLiteral("type"), QStringLiteral("limited")},
                                                  {QStringLiteral("allowed_hosts"), QJsonArray{QStringLiteral("api.stripe.com"), QStringLiteral("*.Example.com"), QStringLiteral("192.0.2.1")}}}}}}});
        QCOMPARE(c.status, 200);
        verifyNoSecretIn(c.body);
        const QString id = str(c.json(), "id");
        const QJsonObject auth = obj(c.json(), "auth");
        QCOMPARE(keys(auth), (QStringList{QStringLiteral("injection_location"), QStringLiteral("networking"),
                                          QStringLiteral("secret_name"), QStringLiteral("type")}));
        QCOMPARE(str(auth, "secret_name"), QStringLiteral("STRIPE_API_KEY"));
        QCOMPARE(obj(auth, "networking"), (QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")},
                                                       {QStringLiteral("allowed_hosts"), QJsonArray{QStringLiteral("api.stripe.com"), QStringLiteral("*.example.com"), QStringLiteral("192.0.2.1")}}}));
        QCOMPARE(obj(auth, "injection_location"), (QJsonObject{{QStringLiteral("body"), false}, {QStringLiteral("header"), true}}));
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("secret_value"), value}}));

        // Partial injection update, networking replaced as a whole, secret rotated.
        const QString rotated = newSecret("envvar-rotated");
        auto u = post(credPath(vault, id), {{QStringLiteral("auth"), QJsonObject{
                                                 {QStringLiteral("type"), QStringLiteral("environment_variable")},
                                                 {QStringLiteral("injection_location"), QJsonObject{{QStringLiteral("body"), true}}},
                                                 {QStringLiteral("networking"), QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}},
                                                 {QStringLiteral("secret_value"), rotated}}}});
        QCOMPARE(u.status, 200);
        verifyNoSecretIn(u.body);
        const QJsonObject auth2 = obj(u.json(), "auth");
        QCOMPARE(obj(auth2, "injection_location"), (QJsonObject{{QStringLiteral("body"), true}, {QStringLiteral("header"), true}}));
        QCOMPARE(obj(auth2, "networking"), (QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}));
        QCOMPARE(str(auth2, "secret_name"), QStringLiteral("STRIPE_API_KEY"));
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("secret_value"), rotated}}));

        // Invalid updates: immutable name, no location left, bad hosts.
        const QJsonObject before = get(credPath(vault, id)).json();
        const QJsonObject envType{{QStringLiteral("type"), QStringLiteral("environment_variable")}};
        auto with = [&](const char *k, const QJsonValue &v) { QJsonObject o = envType; o.insert(QLatin1String(k), v); return o; };
        for (const QJsonObject &bad : {
                 with("secret_name", QStringLiteral("OTHER")),
                 with("injection_location", QJsonObject{{QStringLiteral("body"), false}, {QStringLiteral("header"), false}}),
                 with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allowed_hosts"), QJsonArray{QStringLiteral("https://api.x.com")}}}),
                 with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allowed_hosts"), QJsonArray{QStringLiteral("api.x.com:443")}}}),
                 with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allowed_hosts"), QJsonArray{QStringLiteral("::1")}}}),
                 with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allowed_hosts"), QJsonArray{}}}),
                 with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("sometimes")}}),
                 with("secret_value", QStringLiteral(""))}) {
            auto r = post(credPath(vault, id), {{QStringLiteral("auth"), bad}});
            QVERIFY2(r.status == 400, r.body.constData());
        }
        QJsonArray seventeen;
        for (int i = 0; i < 17; ++i)
            seventeen.append(QStringLiteral("h%1.example.com").arg(i));
        QCOMPARE(post(credPath(vault, id), {{QStringLiteral("auth"), with("networking", QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allowed_hosts"), seventeen}})}}).status, 400);
        QCOMPARE(get(credPath(vault, id)).json(), before);
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("secret_value"), rotated}}));

        // One active credential per variable name.
        auto dup = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                               {QStringLiteral("type"), QStringLiteral("environment_variable")},
                                               {QStringLiteral("secret_name"), QStringLiteral("STRIPE_API_KEY")},
                                               {QStringLiteral("secret_value"), newSecret("envvar-dup")},
                                               {QStringLiteral("networking"), QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}}}}});
        QCOMPARE(dup.status, 409);
        verifyNoSecretIn(dup.body);

        auto a = post(credPath(vault, id) + QStringLiteral("/archive"), {});
        QCOMPARE(a.status, 200);
        verifyNoKeychainEntry(id);
        auto d = del(credPath(vault, id));
        QCOMPARE(d.status, 200);
        QCOMPARE(str(d.json(), "type"), QStringLiteral("vault_credential_deleted"));
    }

    void mcpOAuthLifecycle()
    {
        const QString vault = makeVault();
        const QString access = newSecret("access");
        const QString refreshTok = newSecret("refresh");
        const QString clientSecret = newSecret("client-secret");
        const QString expires = QDateTime::currentDateTimeUtc().addDays(1).toString(Qt::ISODate);
        auto c = post(credPath(vault), {{QStringLiteral("display_name"), QStringLiteral("Notion")},
                                        {QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                             {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.notion.example/mcp")},
                                             {QStringLiteral("access_token"), access},
                                             {QStringLiteral("expires_at"), expires},
                                             {QStringLiteral("refresh"), QJsonObject{
                                                  {QStringLiteral("refresh_token"), refreshTok},
                                                  {QStringLiteral("client_id"), QStringLiteral("client-123")},
                                                  {QStringLiteral("token_endpoint"), QStringLiteral("https://auth.notion.example/oauth/token")},
                                                  {QStringLiteral("scope"), QStringLiteral("read write")},
                                                  {QStringLiteral("token_endpoint_auth"), QJsonObject{
                                                       {QStringLiteral("type"), QStringLiteral("client_secret_post")},
                                                       {QStringLiteral("client_secret"), clientSecret}}}}}}}});
        QCOMPARE(c.status, 200);
        verifyNoSecretIn(c.body);
        const QString id = str(c.json(), "id");
        const QJsonObject auth = obj(c.json(), "auth");
        QCOMPARE(keys(auth), (QStringList{QStringLiteral("expires_at"), QStringLiteral("mcp_server_url"),
                                          QStringLiteral("refresh"), QStringLiteral("type")}));
        QCOMPARE(QDateTime::fromString(str(auth, "expires_at"), Qt::ISODateWithMs),
                 QDateTime::fromString(expires, Qt::ISODate));
        const QJsonObject refresh = obj(auth, "refresh");
        QCOMPARE(refresh, (QJsonObject{{QStringLiteral("client_id"), QStringLiteral("client-123")},
                                       {QStringLiteral("token_endpoint"), QStringLiteral("https://auth.notion.example/oauth/token")},
                                       {QStringLiteral("token_endpoint_auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("client_secret_post")}}},
                                       {QStringLiteral("resource"), QJsonValue::Null},
                                       {QStringLiteral("scope"), QStringLiteral("read write")}}));
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("access_token"), access},
                                                {QStringLiteral("refresh_token"), refreshTok},
                                                {QStringLiteral("client_secret"), clientSecret}}));

        // Rotate access token + refresh token + client secret (sent as the other type: the
        // stored type is kept), clear the scope, set a new expiry.
        const QString access2 = newSecret("access-2");
        const QString refresh2 = newSecret("refresh-2");
        const QString clientSecret2 = newSecret("client-secret-2");
        const QString expires2 = QDateTime::currentDateTimeUtc().addDays(2).toString(Qt::ISODate);
        auto u = post(credPath(vault, id), {{QStringLiteral("auth"), QJsonObject{
                                                 {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                                 {QStringLiteral("access_token"), access2},
                                                 {QStringLiteral("expires_at"), expires2},
                                                 {QStringLiteral("refresh"), QJsonObject{
                                                      {QStringLiteral("refresh_token"), refresh2},
                                                      {QStringLiteral("scope"), QStringLiteral("")},
                                                      {QStringLiteral("token_endpoint_auth"), QJsonObject{
                                                           {QStringLiteral("type"), QStringLiteral("client_secret_basic")},
                                                           {QStringLiteral("client_secret"), clientSecret2}}}}}}}});
        QCOMPARE(u.status, 200);
        verifyNoSecretIn(u.body);
        const QJsonObject auth2 = obj(u.json(), "auth");
        QCOMPARE(QDateTime::fromString(str(auth2, "expires_at"), Qt::ISODateWithMs),
                 QDateTime::fromString(expires2, Qt::ISODate));
        QCOMPARE(str(obj(obj(auth2, "refresh"), "token_endpoint_auth"), "type"), QStringLiteral("client_secret_post"));
        QVERIFY(obj(auth2, "refresh").value(QStringLiteral("scope")).isNull());
        QCOMPARE(str(obj(auth2, "refresh"), "client_id"), QStringLiteral("client-123"));
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("access_token"), access2},
                                                {QStringLiteral("refresh_token"), refresh2},
                                                {QStringLiteral("client_secret"), clientSecret2}}));

        // Only the access token: the refresh secrets stay.
        const QString access3 = newSecret("access-3");
        QCOMPARE(post(credPath(vault, id), {{QStringLiteral("auth"), QJsonObject{
                                                  {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                                  {QStringLiteral("access_token"), access3}}}}).status, 200);
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("access_token"), access3},
                                                {QStringLiteral("refresh_token"), refresh2},
                                                {QStringLiteral("client_secret"), clientSecret2}}));

        // Invalid: past expiry, immutable fields, malformed timestamp.
        const QJsonObject before = get(credPath(vault, id)).json();
        const QJsonObject oauthType{{QStringLiteral("type"), QStringLiteral("mcp_oauth")}};
        auto with = [&](const char *k, const QJsonValue &v) { QJsonObject o = oauthType; o.insert(QLatin1String(k), v); return o; };
        for (const QJsonObject &bad : {
                 with("expires_at", QStringLiteral("2001-01-01T00:00:00Z")),
                 with("expires_at", QStringLiteral("tomorrow")),
                 with("expires_at", QStringLiteral("2099-01-01T00:00:00")), // no time zone
                 with("mcp_server_url", QStringLiteral("https://x.example/mcp")),
                 with("refresh", QJsonObject{{QStringLiteral("client_id"), QStringLiteral("other")}}),
                 with("refresh", QJsonObject{{QStringLiteral("token_endpoint"), QStringLiteral("https://x.example/t")}}),
                 with("refresh", QJsonObject{{QStringLiteral("token_endpoint_auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("none")}}}})}) {
            auto r = post(credPath(vault, id), {{QStringLiteral("auth"), bad}});
            QVERIFY2(r.status == 400, r.body.constData());
        }
        QCOMPARE(get(credPath(vault, id)).json(), before);

        // mcp_oauth_validate is a live probe of the MCP server now (tests/sdk/mcp.test.mjs runs it
        // against a loopback server); this credential's server is not one.

        // A credential without refresh support, with token_endpoint_auth none.
        const QString access4 = newSecret("access-4");
        auto c2 = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                              {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                              {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.linear.example/mcp")},
                                              {QStringLiteral("access_token"), access4}}}});
        QCOMPARE(c2.status, 200);
        const QString id2 = str(c2.json(), "id");
        QVERIFY(obj(c2.json(), "auth").value(QStringLiteral("refresh")).isNull());
        QVERIFY(!obj(c2.json(), "auth").contains(QStringLiteral("expires_at")));
        QCOMPARE(*readSecrets(id2), (QJsonObject{{QStringLiteral("access_token"), access4}}));
        auto noRefresh = post(credPath(vault, id2), {{QStringLiteral("auth"), with("refresh", QJsonObject{{QStringLiteral("refresh_token"), newSecret("late-refresh")}})}});
        QCOMPARE(noRefresh.status, 400);
        verifyNoSecretIn(noRefresh.body);

        const QString access5 = newSecret("access-5");
        auto c3 = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                              {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                              {QStringLiteral("mcp_server_url"), QStringLiteral("https://mcp.public.example/mcp")},
                                              {QStringLiteral("access_token"), access5},
                                              {QStringLiteral("refresh"), QJsonObject{
                                                   {QStringLiteral("refresh_token"), newSecret("refresh-5")},
                                                   {QStringLiteral("client_id"), QStringLiteral("public-client")},
                                                   {QStringLiteral("token_endpoint"), QStringLiteral("https://auth.public.example/token")},
                                                   {QStringLiteral("resource"), QStringLiteral("https://mcp.public.example/")},
                                                   {QStringLiteral("token_endpoint_auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("none")}}}}}}}});
        QCOMPARE(c3.status, 200);
        verifyNoSecretIn(c3.body);
        const QString id3 = str(c3.json(), "id");
        QCOMPARE(str(obj(obj(c3.json(), "auth"), "refresh"), "resource"), QStringLiteral("https://mcp.public.example/"));
        QVERIFY(!readSecrets(id3)->contains(QStringLiteral("client_secret")));
        // token_endpoint_auth none has no client secret to rotate.
        auto noSecret = post(credPath(vault, id3), {{QStringLiteral("auth"), with("refresh", QJsonObject{{QStringLiteral("token_endpoint_auth"), QJsonObject{
                                                         {QStringLiteral("type"), QStringLiteral("client_secret_post")},
                                                         {QStringLiteral("client_secret"), newSecret("never-stored")}}}})}});
        QCOMPARE(noSecret.status, 400);

        // Listing all three; none carries a secret.
        auto l = get(credPath(vault));
        QCOMPARE(l.json().value(QStringLiteral("data")).toArray().size(), 3);
        verifyNoSecretIn(l.body);
        auto page1 = get(credPath(vault) + QStringLiteral("?limit=2"));
        QCOMPARE(page1.json().value(QStringLiteral("data")).toArray().size(), 2);
        const QString next = page1.json().value(QStringLiteral("next_page")).toString();
        QVERIFY(!next.isEmpty());
        auto page2 = get(credPath(vault) + QStringLiteral("?limit=2&page=") + next);
        QCOMPARE(page2.json().value(QStringLiteral("data")).toArray().size(), 1);
        QVERIFY(page2.json().value(QStringLiteral("next_page")).isNull());

        auto a = post(credPath(vault, id) + QStringLiteral("/archive"), {});
        QCOMPARE(a.status, 200);
        verifyNoKeychainEntry(id);
        QCOMPARE(del(credPath(vault, id)).status, 200);
        verifyNoKeychainEntry(id);
    }

    void credentialBadInputIs400AndWritesNothing()
    {
        const QString vault = makeVault();
        const int before = h->rowCount(QStringLiteral("credentials"));
        const QByteArray secret = newSecret("bad-input").toUtf8();
        const QList<QByteArray> bodies{
            QByteArrayLiteral("{"),
            QByteArrayLiteral("[1]"),
            QByteArrayLiteral("{}"),
            QByteArrayLiteral("{\"auth\": \"static_bearer\"}"),
            QByteArrayLiteral("{\"auth\": {}}"),
            "{\"auth\": {\"type\": \"magic\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\"}}",
            QByteArrayLiteral("{\"auth\": {\"type\": \"static_bearer\", \"mcp_server_url\": \"https://a.example\"}}"),
            QByteArrayLiteral("{\"auth\": {\"type\": \"static_bearer\", \"token\": null, \"mcp_server_url\": \"https://a.example\"}}"),
            QByteArrayLiteral("{\"auth\": {\"type\": \"static_bearer\", \"token\": 42, \"mcp_server_url\": \"https://a.example\"}}"),
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\"}}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"not a url\"}}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"ftp://a.example\"}}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://user:pw@a.example\"}}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\", \"extra\": 1}}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\"}, \"bogus\": true}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\"}, \"display_name\": 3}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\"}, \"display_name\": \"" + QByteArray(256, 'd') + "\"}",
            "{\"auth\": {\"type\": \"static_bearer\", \"token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\"}, \"metadata\": {\"k\": 1}}",
            "{\"auth\": {\"type\": \"environment_variable\", \"secret_name\": \"A\", \"secret_value\": \"" + secret + "\"}}",
            "{\"auth\": {\"type\": \"environment_variable\", \"secret_name\": \"1BAD\", \"secret_value\": \"" + secret + "\", \"networking\": {\"type\": \"unrestricted\"}}}",
            "{\"auth\": {\"type\": \"environment_variable\", \"secret_name\": \"A\", \"networking\": {\"type\": \"unrestricted\"}}}",
            "{\"auth\": {\"type\": \"environment_variable\", \"secret_name\": \"A\", \"secret_value\": \"" + secret + "\", \"networking\": {\"type\": \"unrestricted\", \"allowed_hosts\": []}}}",
            "{\"auth\": {\"type\": \"environment_variable\", \"secret_name\": \"A\", \"secret_value\": \"" + secret + "\", \"networking\": {\"type\": \"unrestricted\"}, \"injection_location\": {\"header\": false}}}",
            "{\"auth\": {\"type\": \"mcp_oauth\", \"mcp_server_url\": \"https://a.example\"}}",
            "{\"auth\": {\"type\": \"mcp_oauth\", \"access_token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\", \"expires_at\": \"2000-01-01T00:00:00Z\"}}",
            "{\"auth\": {\"type\": \"mcp_oauth\", \"access_token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\", \"refresh\": {\"client_id\": \"c\", \"token_endpoint\": \"https://t.example\", \"token_endpoint_auth\": {\"type\": \"none\"}}}}",
            "{\"auth\": {\"type\": \"mcp_oauth\", \"access_token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\", \"refresh\": {\"client_id\": \"c\", \"refresh_token\": \"r\", \"token_endpoint\": \"https://t.example\", \"token_endpoint_auth\": {\"type\": \"client_secret_basic\"}}}}",
            "{\"auth\": {\"type\": \"mcp_oauth\", \"access_token\": \"" + secret + "\", \"mcp_server_url\": \"https://a.example\", \"refresh\": {\"client_id\": \"c\", \"refresh_token\": \"r\", \"token_endpoint\": \"https://t.example\", \"token_endpoint_auth\": {\"type\": \"none\", \"client_secret\": \"s\"}}}}",
        };
        for (const QByteArray &b : bodies) {
            auto r = h->postRaw(credPath(vault), b);
            m_bodies << r.body;
            QVERIFY2(r.status == 400, b.constData());
            QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
            QVERIFY(!errorMessage(r).isEmpty());
            QVERIFY2(!r.body.contains(secret), "an error message echoes a secret");
        }
        QCOMPARE(h->rowCount(QStringLiteral("credentials")), before);
    }

    void notFoundCases()
    {
        const QString vaultA = makeVault(QStringLiteral("A"));
        const QString vaultB = makeVault(QStringLiteral("B"));
        const QString token = newSecret("nf");
        auto c = post(credPath(vaultA), {{QStringLiteral("auth"), QJsonObject{
                                              {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                              {QStringLiteral("token"), token},
                                              {QStringLiteral("mcp_server_url"), QStringLiteral("https://nf.example/mcp")}}}});
        QCOMPARE(c.status, 200);
        const QString cred = str(c.json(), "id");
        const QString missingVault = QStringLiteral("vlt_01AAAAAAAAAAAAAAAAAAAAAA");
        const QString missingCred = QStringLiteral("vcrd_01AAAAAAAAAAAAAAAAAAAAAA");

        QCOMPARE(get(QStringLiteral("/v1/vaults/") + missingVault).status, 404);
        QCOMPARE(get(credPath(missingVault)).status, 404);
        const int rowsBefore = h->rowCount(QStringLiteral("credentials"));
        auto createMissing = post(credPath(missingVault), {{QStringLiteral("auth"), QJsonObject{
                                                               {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                               {QStringLiteral("token"), newSecret("nf2")},
                                                               {QStringLiteral("mcp_server_url"), QStringLiteral("https://nf2.example/mcp")}}}});
        QCOMPARE(createMissing.status, 404);
        QCOMPARE(createMissing.errorType(), QStringLiteral("not_found_error"));
        QCOMPARE(h->rowCount(QStringLiteral("credentials")), rowsBefore);

        // A credential addressed through another vault does not exist there.
        QCOMPARE(get(credPath(vaultB, cred)).status, 404);
        QCOMPARE(post(credPath(vaultB, cred), {{QStringLiteral("display_name"), QStringLiteral("x")}}).status, 404);
        QCOMPARE(post(credPath(vaultB, cred) + QStringLiteral("/archive"), {}).status, 404);
        QCOMPARE(post(credPath(vaultB, cred) + QStringLiteral("/mcp_oauth_validate"), {}).status, 404);
        QCOMPARE(del(credPath(vaultB, cred)).status, 404);
        QCOMPARE(get(credPath(vaultA, missingCred)).status, 404);
        QCOMPARE(del(credPath(missingVault, cred)).status, 404);
        // …and is untouched.
        QCOMPARE(get(credPath(vaultA, cred)).json(), c.json());
        QCOMPARE(*readSecrets(cred), (QJsonObject{{QStringLiteral("token"), token}}));
        QVERIFY(get(credPath(vaultB)).json().value(QStringLiteral("data")).toArray().isEmpty());

        // Validating a non-OAuth credential is a 400 that says why.
        auto v = post(credPath(vaultA, cred) + QStringLiteral("/mcp_oauth_validate"), {});
        QCOMPARE(v.status, 400);
        QVERIFY(errorMessage(v).contains(QStringLiteral("mcp_oauth")));

        // One active credential per MCP server URL per vault (another vault is fine).
        auto dup = post(credPath(vaultA), {{QStringLiteral("auth"), QJsonObject{
                                                {QStringLiteral("type"), QStringLiteral("mcp_oauth")},
                                                {QStringLiteral("access_token"), newSecret("dup")},
                                                {QStringLiteral("mcp_server_url"), QStringLiteral("https://nf.example/mcp")}}}});
        QCOMPARE(dup.status, 409);
        QCOMPARE(dup.errorType(), QStringLiteral("invalid_request_error"));
        QCOMPARE(h->rowCount(QStringLiteral("credentials")), rowsBefore);
        auto other = post(credPath(vaultB), {{QStringLiteral("auth"), QJsonObject{
                                                  {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                  {QStringLiteral("token"), newSecret("other-vault")},
                                                  {QStringLiteral("mcp_server_url"), QStringLiteral("https://nf.example/mcp")}}}});
        QCOMPARE(other.status, 200);
    }

    void deletingVaultRemovesEveryKeychainEntry()
    {
        const QString vault = makeVault();
        QStringList creds;
        for (int i = 0; i < 3; ++i) {
            auto c = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                                 {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                 {QStringLiteral("token"), newSecret("vault-del")},
                                                 {QStringLiteral("mcp_server_url"), QStringLiteral("https://s%1.example/mcp").arg(i)}}}});
            QCOMPARE(c.status, 200);
            creds << str(c.json(), "id");
        }
        auto ev = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                              {QStringLiteral("type"), QStringLiteral("environment_variable")},
                                              {QStringLiteral("secret_name"), QStringLiteral("TOKEN")},
                                              {QStringLiteral("secret_value"), newSecret("vault-del-env")},
                                              {QStringLiteral("networking"), QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}}}}});
        QCOMPARE(ev.status, 200);
        creds << str(ev.json(), "id");
        QCOMPARE(post(credPath(vault, creds.at(0)) + QStringLiteral("/archive"), {}).status, 200);
        for (const QString &id : creds.mid(1))
            QVERIFY(keychainEntry(id).ok());

        QSignalSpy credRemoved(&h->backend->vaults(), &VaultService::credentialRemoved);
        QSignalSpy vaultRemoved(&h->backend->vaults(), &VaultService::vaultRemoved);
        auto d = del(QStringLiteral("/v1/vaults/") + vault);
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{QStringLiteral("id"), vault}, {QStringLiteral("type"), QStringLiteral("vault_deleted")}}));
        QCOMPARE(credRemoved.size(), creds.size());
        QCOMPARE(vaultRemoved.size(), 1);
        for (const QString &id : creds)
            verifyNoKeychainEntry(id);
        QSqlQuery q = h->backend->database().query(QStringLiteral("SELECT COUNT(*) FROM credentials WHERE vault_id = ?"));
        q.addBindValue(vault);
        QVERIFY(h->backend->database().exec(q).ok() && q.next());
        QCOMPARE(q.value(0).toInt(), 0);
        QCOMPARE(get(credPath(vault)).status, 404);
    }

    void archivingVaultArchivesCredentialsAndPurgesSecrets()
    {
        const QString vault = makeVault();
        auto c = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                             {QStringLiteral("token"), newSecret("vault-archive")},
                                             {QStringLiteral("mcp_server_url"), QStringLiteral("https://va.example/mcp")}}}});
        QCOMPARE(c.status, 200);
        const QString id = str(c.json(), "id");
        QVERIFY(keychainEntry(id).ok());
        auto a = post(QStringLiteral("/v1/vaults/%1/archive").arg(vault), {});
        QCOMPARE(a.status, 200);
        QVERIFY(!str(a.json(), "archived_at").isEmpty());
        auto cred = get(credPath(vault, id));
        QCOMPARE(str(cred.json(), "archived_at"), str(a.json(), "archived_at"));
        verifyNoKeychainEntry(id);
        QVERIFY(!readSecrets(id).ok());
        QCOMPARE(h->backend->vaults().exists(vault), true);
        QCOMPARE(h->backend->vaults().exists(QStringLiteral("vlt_01nope")), false);
    }

    // While a keychain operation is in flight on a credential, conflicting changes are refused
    // (409) instead of interleaving; once it is done they go through.
    void overlappingChangesAre409()
    {
        const QString vault = makeVault();
        auto c = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                             {QStringLiteral("token"), newSecret("overlap")},
                                             {QStringLiteral("mcp_server_url"), QStringLiteral("https://ov.example/mcp")}}}});
        QCOMPARE(c.status, 200);
        const QString id = str(c.json(), "id");
        VaultService &svc = h->backend->vaults();
        const QString rotated = newSecret("overlap-rotated");
        std::optional<Result<QJsonObject>> update, del1, delVault, archiveVault, update2;
        svc.updateCredential(vault, id, {{QStringLiteral("auth"), QJsonObject{{QStringLiteral("type"), QStringLiteral("static_bearer")},
                                                                              {QStringLiteral("token"), rotated}}}},
                             [&](Result<QJsonObject> r) { update.emplace(std::move(r)); });
        svc.deleteCredential(vault, id, [&](Result<QJsonObject> r) { del1.emplace(std::move(r)); });
        svc.deleteVault(vault, [&](Result<QJsonObject> r) { delVault.emplace(std::move(r)); });
        svc.archive(vault, [&](Result<QJsonObject> r) { archiveVault.emplace(std::move(r)); });
        svc.updateCredential(vault, id, {{QStringLiteral("display_name"), QStringLiteral("x")}},
                             [&](Result<QJsonObject> r) { update2.emplace(std::move(r)); });
        for (auto *refused : {&del1, &delVault, &archiveVault, &update2}) {
            QVERIFY(refused->has_value());
            QVERIFY(!(*refused)->ok());
            QCOMPARE((*refused)->error().kind(), ApiError::Kind::Conflict);
        }
        QTRY_VERIFY_WITH_TIMEOUT(update.has_value(), 20000);
        QVERIFY(update->ok());
        QCOMPARE(*readSecrets(id), (QJsonObject{{QStringLiteral("token"), rotated}}));
        // Now everything is idle again.
        QCOMPARE(del(QStringLiteral("/v1/vaults/") + vault).status, 200);
        verifyNoKeychainEntry(id);
    }

    // Runs last among the keychain tests: every secret sent so far is absent from every
    // response body and from the bytes of the SQLite files.
    void secretsNeverReachResponsesOrSqlite()
    {
        QVERIFY(m_secrets.size() > 15);
        for (const QByteArray &body : std::as_const(m_bodies))
            verifyNoSecretIn(body);
        // Push the WAL into the main file too, then read all three files raw.
        h->backend->database().exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)")).ok();
        const QString db = h->backend->database().path();
        int filesRead = 0;
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
            QFile f(db + suffix);
            if (!f.exists())
                continue;
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            ++filesRead;
            for (const QString &s : std::as_const(m_secrets))
                QVERIFY2(!bytes.contains(s.toUtf8()), qPrintable(QStringLiteral("a secret is in %1").arg(db + suffix)));
        }
        QVERIFY(filesRead >= 1);
        // Sanity check that the search would find a stored value: a non-secret display name is there.
        QFile main(db);
        QVERIFY(main.open(QIODevice::ReadOnly));
        const QByteArray all = main.readAll() + [&] { QFile w(db + QStringLiteral("-wal")); return w.open(QIODevice::ReadOnly) ? w.readAll() : QByteArray(); }();
        QVERIFY(all.contains("mcp.linear.example"));
    }

    // Without a keychain: a child process of this binary with no D-Bus session.
    void noKeychainIs503AndWritesNothing()
    {
        const auto run = ApiHarness::runWithoutKeychain(kChildMode, QStringLiteral("noKeychainChild"), 120000);
        QVERIFY(run.finished);
        const QString &out = run.output;
        QVERIFY2(run.exitCode == 0, qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("PASS   : TestApiVaultsNoKeychain::noKeychainChild()")), qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("CHILD-503:")), qPrintable(out));
    }

    void cleanupTestCase() { h.reset(); }
};

class TestApiVaultsNoKeychain : public VaultsFixture
{
    Q_OBJECT
private Q_SLOTS:
    // Runs only in the child process that noKeychainIs503AndWritesNothing starts (main()
    // picks this class when the child environment variable is set).
    void noKeychainChild()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        QVERIFY(qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"));
        const QString vault = makeVault(QStringLiteral("no keychain")); // vaults hold no secrets
        QVERIFY(!vault.isEmpty());
        const int before = h->rowCount(QStringLiteral("credentials"));
        const QString token = newSecret("nokeychain");
        auto r = post(credPath(vault), {{QStringLiteral("auth"), QJsonObject{
                                             {QStringLiteral("type"), QStringLiteral("static_bearer")},
                                             {QStringLiteral("token"), token},
                                             {QStringLiteral("mcp_server_url"), QStringLiteral("https://nk.example/mcp")}}}});
        std::printf("CHILD-503: %d %s\n", r.status, r.body.constData());
        QCOMPARE(r.status, 503);
        QCOMPARE(r.errorType(), QStringLiteral("api_error"));
        QVERIFY2(errorMessage(r).contains(QStringLiteral("keychain")), qPrintable(errorMessage(r)));
        QVERIFY2(errorMessage(r).startsWith(SecretStore::noBackendMessage()), qPrintable(errorMessage(r)));
        QCOMPARE(h->rowCount(QStringLiteral("credentials")), before);
        QVERIFY(get(credPath(vault)).json().value(QStringLiteral("data")).toArray().isEmpty());
        verifyNoSecretIn(r.body);
        // The token is nowhere in the data directory either.
        QProcess grep;
        grep.start(QStringLiteral("grep"), {QStringLiteral("-r"), token, h->dir.path()});
        QVERIFY(grep.waitForFinished());
        QVERIFY(grep.exitCode() != 0);
        // A vault without credentials can still be deleted (no keychain call needed).
        QCOMPARE(del(QStringLiteral("/v1/vaults/") + vault).status, 200);
    }

    void cleanupTestCase() { h.reset(); }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (ApiHarness::isChild(kChildMode)) {
        TestApiVaultsNoKeychain child;
        return QTest::qExec(&child, argc, argv);
    }
    TestApiVaults t;
    return QTest::qExec(&t, argc, argv);
}
#include "tst_api_vaults.moc"
