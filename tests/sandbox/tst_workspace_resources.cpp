// Session resources put into a real VM: a stored file at its mount path, a git repository
// cloned on the host (a local repository reached through git's own url.insteadOf, the way a
// mirror is configured) at a branch and at a commit, the errors of a bad resource, and a
// private repository over HTTP on 127.0.0.1 that only answers with the right token.
#include "ApiHarness.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/WorkspaceResources.h"
#include "services/FileService.h"
#include "GuestImageWait.h"
#include "LoopbackHttpServer.h"

#include <QJsonArray>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace viv;
using namespace viv::test;

namespace {

// git's dumb HTTP protocol over a static directory (after `git update-server-info`), on
// 127.0.0.1 only, answering every request that lacks `Authorization: <expected>` with 401.
class AuthGitServer
{
public:
    AuthGitServer(QString root, QByteArray authorization)
        : m_http([this](const HttpRequest &r) { return serve(r); }),
          m_root(std::move(root)),
          m_expected(std::move(authorization))
    {}
    bool listen() { return m_http.listen(); }
    QString url(const QString &path) const { return m_http.url(u'/' + path); }

    int served = 0;  // requests with the right header
    int refused = 0; // requests without it

private:
    HttpResponse serve(const HttpRequest &req)
    {
        HttpResponse r = HttpResponse::text(404, {}, "application/octet-stream");
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"git\"");
        const QByteArray path = req.path();
        if (req.header("authorization") != m_expected) {
            ++refused;
            r.status = 401;
            return r;
        }
        ++served;
        QFile f(m_root + QString::fromUtf8(QByteArray::fromPercentEncoding(path)));
        if (!path.contains("..") && QFileInfo(f).isFile() && f.open(QIODevice::ReadOnly)) {
            r.status = 200;
            r.body = f.readAll();
        }
        return r;
    }

    LoopbackHttpServer m_http;
    QString m_root;
    QByteArray m_expected;
};

} // namespace

class TestWorkspaceResources : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<ApiHarness> h;
    std::unique_ptr<WorkspaceResources> resources;
    QTemporaryDir repos;
    QString sandbox;
    QString firstCommit;

    // The command's output, or nullopt when it failed.
    static std::optional<QString> git(const QString &dir, const QStringList &args)
    {
        QProcess p;
        p.setWorkingDirectory(dir);
        p.start(QStringLiteral("git"), args);
        if (!p.waitForFinished(30000) || p.exitCode() != 0) {
            qWarning().noquote() << "git" << args << "failed:" << p.readAllStandardError();
            return std::nullopt;
        }
        return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    }

    QString sh(const QString &command)
    {
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"), command};
        std::optional<Result<SandboxManager::ExecResult>> out;
        h->backend->sandboxes().exec(sandbox, req, [&](Result<SandboxManager::ExecResult> r) { out = std::move(r); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 60000) || !*out)
            return QStringLiteral("<exec failed>");
        return QString::fromUtf8((*out)->stdoutData + (*out)->stderrData).trimmed();
    }

    QList<WorkspaceResources::Failure> put(const QJsonArray &list, WorkspaceResources::TokenSource tokens = {})
    {
        std::optional<QList<WorkspaceResources::Failure>> out;
        resources->materialise(sandbox, list, [&](QList<WorkspaceResources::Failure> f) { out = std::move(f); }, tokens);
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 5 * 60000))
            return {{QJsonObject(), QStringLiteral("timeout"), QStringLiteral("timed out")}};
        return *out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(repos.isValid());
        // A repository with two commits on main and a branch `feature`.
        const QString src = repos.filePath(QStringLiteral("acme/widgets"));
        QVERIFY(QDir().mkpath(src));
        QVERIFY(git(src, {QStringLiteral("init"), QStringLiteral("--quiet"), QStringLiteral("--initial-branch=main")}).has_value());
        const QStringList who{QStringLiteral("-c"), QStringLiteral("user.name=t"), QStringLiteral("-c"), QStringLiteral("user.email=t@t")};
        auto commit = [&](const QString &file, const QByteArray &text, const QString &msg) {
            QFile f(src + u'/' + file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
            f.close();
            QVERIFY(git(src, {QStringLiteral("add"), file}).has_value());
            QVERIFY(git(src, who + QStringList{QStringLiteral("commit"), QStringLiteral("--quiet"), QStringLiteral("-m"), msg}).has_value());
        };
        commit(QStringLiteral("README"), "version one\n", QStringLiteral("one"));
        firstCommit = git(src, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}).value_or(QString());
        QCOMPARE(firstCommit.size(), 40);
        commit(QStringLiteral("README"), "version two\n", QStringLiteral("two"));
        QVERIFY(git(src, {QStringLiteral("branch"), QStringLiteral("feature"), firstCommit}).has_value());
        // The session names the repository by its https URL; git's own configuration maps it to
        // the local copy, exactly as a user's mirror configuration would.
        qputenv("GIT_CONFIG_COUNT", "1");
        qputenv("GIT_CONFIG_KEY_0", QByteArray("url.file://") + repos.path().toUtf8() + "/.insteadOf");
        qputenv("GIT_CONFIG_VALUE_0", "https://github.com/");

        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        const QString error = waitForGuestImage(h->backend->sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
        std::optional<Result<SandboxManager::Info>> info;
        h->backend->sandboxes().create(QStringLiteral("base"), 600, [&](Result<SandboxManager::Info> r) { info = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(info.has_value(), 5 * 60000);
        QVERIFY2(*info, qPrintable(info->ok() ? QString() : info->error().message()));
        sandbox = (*info)->id;
        resources = std::make_unique<WorkspaceResources>(h->backend->sandboxes(), h->backend->files());
    }

    void fileAndRepositories()
    {
        // 5 MiB of non-text bytes: several write chunks, and binary-safe.
        QByteArray blob(5 * 1024 * 1024 + 17, '\0');
        for (qsizetype i = 0; i < blob.size(); ++i)
            blob[i] = char((i * 7919) >> 3);
        auto file = h->backend->files().upload(QStringLiteral("data.bin"), QStringLiteral("application/octet-stream"), blob);
        QVERIFY(file);
        const QString fileId = file->value(QStringLiteral("id")).toString();
        const QJsonArray list{
            QJsonObject{{QStringLiteral("type"), QStringLiteral("file")}, {QStringLiteral("file_id"), fileId},
                        {QStringLiteral("mount_path"), QStringLiteral("/mnt/session/uploads/data.bin")}},
            QJsonObject{{QStringLiteral("type"), QStringLiteral("github_repository")},
                        {QStringLiteral("url"), QStringLiteral("https://github.com/acme/widgets")},
                        {QStringLiteral("mount_path"), QStringLiteral("/workspace/widgets")},
                        {QStringLiteral("checkout"), QJsonValue::Null}},
            QJsonObject{{QStringLiteral("type"), QStringLiteral("github_repository")},
                        {QStringLiteral("url"), QStringLiteral("https://github.com/acme/widgets")},
                        {QStringLiteral("mount_path"), QStringLiteral("/workspace/at-branch")},
                        {QStringLiteral("checkout"), QJsonObject{{QStringLiteral("type"), QStringLiteral("branch")},
                                                                 {QStringLiteral("name"), QStringLiteral("feature")}}}},
            QJsonObject{{QStringLiteral("type"), QStringLiteral("github_repository")},
                        {QStringLiteral("url"), QStringLiteral("https://github.com/acme/widgets")},
                        {QStringLiteral("mount_path"), QStringLiteral("/workspace/at-commit")},
                        {QStringLiteral("checkout"), QJsonObject{{QStringLiteral("type"), QStringLiteral("commit")},
                                                                 {QStringLiteral("sha"), firstCommit}}}},
        };
        const auto failures = put(list);
        QVERIFY2(failures.isEmpty(), qPrintable(failures.isEmpty() ? QString() : failures.first().message));

        const QString digest = QString::fromLatin1(QCryptographicHash::hash(blob, QCryptographicHash::Sha256).toHex());
        QCOMPARE(sh(QStringLiteral("sha256sum /mnt/session/uploads/data.bin | cut -d' ' -f1")), digest);
        QCOMPARE(sh(QStringLiteral("cat /workspace/widgets/README")), QStringLiteral("version two"));
        QCOMPARE(sh(QStringLiteral("cd /workspace/widgets && git rev-parse --abbrev-ref HEAD")), QStringLiteral("main"));
        QCOMPARE(sh(QStringLiteral("cat /workspace/at-branch/README")), QStringLiteral("version one"));
        QCOMPARE(sh(QStringLiteral("cd /workspace/at-branch && git rev-parse --abbrev-ref HEAD")), QStringLiteral("feature"));
        QCOMPARE(sh(QStringLiteral("cd /workspace/at-commit && git rev-parse HEAD")), firstCommit);
        // The clone in the VM names the repository by the URL the session gave, nothing else.
        QCOMPARE(sh(QStringLiteral("cd /workspace/widgets && git remote get-url origin")),
                 QStringLiteral("https://github.com/acme/widgets"));
        // No packed transfer is left behind.
        QCOMPARE(sh(QStringLiteral("ls /tmp | grep -c vivarium-resource || true")), QStringLiteral("0"));
    }

    void failuresAreTypedAndTheRestStillArrives()
    {
        auto repo = [](const QString &url, const QString &mount, const QJsonValue &checkout) {
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("github_repository")}, {QStringLiteral("url"), url},
                               {QStringLiteral("mount_path"), mount}, {QStringLiteral("checkout"), checkout}};
        };
        const auto failures = put({
            repo(QStringLiteral("https://github.com/acme/missing"), QStringLiteral("/workspace/missing"), QJsonValue::Null),
            repo(QStringLiteral("https://github.com/acme/widgets"), QStringLiteral("/workspace/bad-commit"),
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("commit")}, {QStringLiteral("sha"), QString(40, u'0')}}),
            repo(QStringLiteral("https://github.com/acme/widgets"), QStringLiteral("/workspace/bad-branch"),
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("branch")}, {QStringLiteral("name"), QStringLiteral("nope")}}),
            QJsonObject{{QStringLiteral("type"), QStringLiteral("file")}, {QStringLiteral("file_id"), QStringLiteral("file_doesnotexist")},
                        {QStringLiteral("mount_path"), QStringLiteral("/workspace/x")}},
            repo(QStringLiteral("https://github.com/acme/widgets"), QStringLiteral("/workspace/after-failures"), QJsonValue::Null),
        });
        QCOMPARE(failures.size(), 4);
        QCOMPARE(failures[0].errorType, QStringLiteral("repository_not_found_error"));
        QVERIFY2(failures[0].message.contains(QStringLiteral("repository https://github.com/acme/missing")), qPrintable(failures[0].message));
        QCOMPARE(failures[1].errorType, QStringLiteral("repository_checkout_error"));
        QVERIFY2(failures[1].message.contains(QStringLiteral("checking out the commit failed")), qPrintable(failures[1].message));
        QCOMPARE(failures[2].errorType, QStringLiteral("repository_checkout_error"));
        QCOMPARE(failures[3].errorType, QStringLiteral("unknown_error"));
        QVERIFY2(failures[3].message.contains(QStringLiteral("file file_doesnotexist")), qPrintable(failures[3].message));
        QCOMPARE(failures[3].resource.value(QStringLiteral("mount_path")).toString(), QStringLiteral("/workspace/x"));
        // The session keeps running without them: the last resource is in place.
        QCOMPARE(sh(QStringLiteral("cat /workspace/after-failures/README")), QStringLiteral("version two"));
    }


    // A private repository: the token reaches git only through its environment (the server
    // sees it as the Authorization header), never the clone's files or the VM.
    void privateRepositoryOverHttpNeedsItsToken()
    {
        // A bare copy of acme/widgets served by the dumb HTTP protocol.
        const QString served = repos.filePath(QStringLiteral("http"));
        QVERIFY(QDir().mkpath(served + QStringLiteral("/acme")));
        QVERIFY(git(repos.path(), {QStringLiteral("clone"), QStringLiteral("--quiet"), QStringLiteral("--bare"),
                                   repos.filePath(QStringLiteral("acme/widgets")), served + QStringLiteral("/acme/private.git")}).has_value());
        QVERIFY(git(served + QStringLiteral("/acme/private.git"), {QStringLiteral("update-server-info")}).has_value());
        const QByteArray token = ApiHarness::recordSecret(QStringLiteral("ghp_clone_") + QString::number(QRandomGenerator::global()->generate64(), 36)).toUtf8();
        const QByteArray wrong = ApiHarness::recordSecret(QStringLiteral("ghp_wrong_") + QString::number(QRandomGenerator::global()->generate64(), 36)).toUtf8();
        const QByteArray header = "Basic " + QByteArray("x-access-token:" + token).toBase64();
        AuthGitServer server(served, header);
        QVERIFY(server.listen());
        const QString url = server.url(QStringLiteral("acme/private.git"));
        auto repo = [&](const QString &u, const QString &mount) {
            return QJsonObject{{QStringLiteral("id"), QString(QStringLiteral("sesrsc_") + mount.section(u'/', -1))},
                               {QStringLiteral("type"), QStringLiteral("github_repository")}, {QStringLiteral("url"), u},
                               {QStringLiteral("mount_path"), mount}, {QStringLiteral("checkout"), QJsonValue::Null}};
        };
        // The token source is asked when each clone starts, with that resource.
        QStringList asked;
        auto source = [&](const QByteArray &t) {
            return [&asked, t](const QJsonObject &r, Callback<QByteArray> done) {
                asked << r.value(QStringLiteral("id")).toString();
                done(t);
            };
        };

        // Right token: cloned, and the token is nowhere in the clone or the VM.
        auto failures = put({repo(url, QStringLiteral("/workspace/private"))}, source(token));
        QVERIFY2(failures.isEmpty(), qPrintable(failures.isEmpty() ? QString() : failures.first().message));
        QCOMPARE(asked, QStringList{QStringLiteral("sesrsc_private")});
        QVERIFY(server.served > 0);
        QCOMPARE(server.refused, 0);
        QCOMPARE(sh(QStringLiteral("cat /workspace/private/README")), QStringLiteral("version two"));
        QCOMPARE(sh(QStringLiteral("cd /workspace/private && git remote get-url origin")), url);
        // The guest's copy is the host clone directory, .git included, byte for byte.
        for (const QByteArray &needle : {token, header, QByteArray("x-access-token")})
            QCOMPARE(sh(QStringLiteral("grep -rlF -e '%1' /workspace/private /tmp /root 2>/dev/null | head -3")
                            .arg(QString::fromLatin1(needle))),
                     QString());
        QCOMPARE(sh(QStringLiteral("grep -ci extraheader /workspace/private/.git/config || true")), QStringLiteral("0"));

        // Wrong token, and no token at all: refused by the server, typed as a clone error, the
        // session goes on. The message never quotes a token.
        const int refusedBefore = server.refused;
        failures = put({repo(url, QStringLiteral("/workspace/wrong")), repo(url, QStringLiteral("/workspace/none"))},
                       [&](const QJsonObject &r, Callback<QByteArray> done) {
                           done(r.value(QStringLiteral("mount_path")).toString().endsWith(QStringLiteral("wrong")) ? wrong : QByteArray());
                       });
        QCOMPARE(failures.size(), 2);
        for (const auto &f : std::as_const(failures)) {
            QCOMPARE(f.errorType, QStringLiteral("repository_clone_error"));
            QVERIFY2(!f.message.contains(QString::fromLatin1(wrong)) && !f.message.contains(QString::fromLatin1(token)), qPrintable(f.message));
        }
        QVERIFY(server.refused >= refusedBefore + 2);
        QCOMPARE(sh(QStringLiteral("test -e /workspace/wrong || test -e /workspace/none; echo $?")), QStringLiteral("1"));

        // A keychain failure at clone time is a typed failure of that resource only.
        failures = put({repo(url, QStringLiteral("/workspace/unreadable"))}, [](const QJsonObject &, Callback<QByteArray> done) {
            done(ApiError::unavailable(QStringLiteral("no keychain")));
        });
        QCOMPARE(failures.size(), 1);
        QCOMPARE(failures[0].errorType, QStringLiteral("repository_clone_error"));
        QVERIFY(failures[0].message.contains(QStringLiteral("no keychain")));

        // The token is scoped to the URL the session gave: a url.insteadOf mirror that maps
        // another URL onto this server does not receive it.
        const QByteArray count = qgetenv("GIT_CONFIG_COUNT");
        qputenv("GIT_CONFIG_COUNT", "2");
        qputenv("GIT_CONFIG_KEY_1", "url." + server.url(QString()).toUtf8() + ".insteadOf");
        qputenv("GIT_CONFIG_VALUE_1", "https://mirror.invalid/");
        const int servedBefore = server.served;
        failures = put({repo(QStringLiteral("https://mirror.invalid/acme/private.git"), QStringLiteral("/workspace/mirrored"))}, source(token));
        qputenv("GIT_CONFIG_COUNT", count);
        qunsetenv("GIT_CONFIG_KEY_1");
        qunsetenv("GIT_CONFIG_VALUE_1");
        QCOMPARE(failures.size(), 1);
        QCOMPARE(failures[0].errorType, QStringLiteral("repository_clone_error"));
        QCOMPARE(server.served, servedBefore);
    }

    void cleanupTestCase()
    {
        if (!sandbox.isEmpty()) {
            bool done = false;
            h->backend->sandboxes().destroy(sandbox, [&](Status) { done = true; });
            QTRY_VERIFY_WITH_TIMEOUT(done, 60000);
        }
        resources.reset();
        h.reset();
    }
};

QTEST_GUILESS_MAIN(TestWorkspaceResources)
#include "tst_workspace_resources.moc"
