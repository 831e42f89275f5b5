// /v1/files through a real socket: multipart upload, metadata, list (ids filter, pagination),
// download, delete, expiry, and bad input that must change nothing (table and directory).

#include "ApiHarness.h"

#include "services/FileService.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QSqlQuery>
#include <QTest>

#include <optional>

using namespace viv;
using namespace viv::test;

namespace {

const QByteArray kBoundary = QByteArrayLiteral("vivarium-test-boundary-7d1f");

struct FormPart
{
    QByteArray name;
    std::optional<QByteArray> filename;
    QByteArray contentType;
    QByteArray body;
};

QByteArray form(const QList<FormPart> &parts, const QByteArray &boundary = kBoundary)
{
    QByteArray out;
    for (const FormPart &p : parts) {
        out += "--" + boundary + "\r\n";
        out += "Content-Disposition: form-data; name=\"" + p.name + "\"";
        if (p.filename)
            out += "; filename=\"" + *p.filename + "\"";
        out += "\r\n";
        if (!p.contentType.isEmpty())
            out += "Content-Type: " + p.contentType + "\r\n";
        out += "\r\n" + p.body + "\r\n";
    }
    return out + "--" + boundary + "--\r\n";
}

QByteArray multipartType(const QByteArray &boundary = kBoundary)
{
    return "multipart/form-data; boundary=" + boundary;
}

// Every byte value, NULs, and lines that look like (but are not) the boundary.
QByteArray binaryPayload()
{
    QByteArray b;
    for (int i = 0; i < 256; ++i)
        b += char(i);
    b += QByteArray(17, '\0');
    b += "\r\n--" + kBoundary.left(10) + "\r\n\r\n--\r\n";
    b += QByteArray("\x00\xff\x00\xfe", 4);
    return b;
}

QString msg(const HttpResult &r)
{
    return r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

} // namespace

class TestApiFiles : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    QString filesDir() const { return h->dir.path() + QStringLiteral("/files"); }
    QStringList blobs() const
    {
        return QDir(filesDir()).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
    }

    HttpResult upload(const QByteArray &body, const QByteArray &contentType = multipartType(), bool withKey = true)
    {
        return h->request("POST", QStringLiteral("/v1/files"), body, {{"Content-Type", contentType}}, withKey);
    }
    HttpResult uploadFile(const QByteArray &filename, const QByteArray &contentType, const QByteArray &bytes)
    {
        return upload(form({{"file", filename, contentType, bytes}}));
    }

    // A request that must be refused with `status` and leave the table and directory alone.
    void expectRejected(const HttpResult &r, int status, const QString &needle, int rowsBefore,
                        const QStringList &blobsBefore)
    {
        QVERIFY2(r.status == status, qPrintable(QStringLiteral("status %1: %2").arg(r.status).arg(QString::fromUtf8(r.body))));
        if (status == 400)
            QCOMPARE(r.errorType(), QStringLiteral("invalid_request_error"));
        QVERIFY2(msg(r).contains(needle, Qt::CaseInsensitive),
                 qPrintable(QStringLiteral("message `%1` lacks `%2`").arg(msg(r), needle)));
        QCOMPARE(h->rowCount(QStringLiteral("files")), rowsBefore);
        QCOMPARE(blobs(), blobsBefore);
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
        QVERIFY(QFileInfo(filesDir()).isDir());
        QCOMPARE(QFileInfo(filesDir()).permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther | QFile::ExeGroup | QFile::ExeOther),
                 QFile::Permissions());
    }

    void uploadMetadataDownloadDelete()
    {
        const QByteArray bytes = binaryPayload();
        const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
        auto up = uploadFile("data.bin", "application/octet-stream", bytes);
        QVERIFY2(up.status == 200, up.body.constData());
        const QJsonObject meta = up.json();
        const QString id = meta.value(QStringLiteral("id")).toString();
        QVERIFY2(id.startsWith(QStringLiteral("file_")), qPrintable(id));

        // BetaFileMetadata, exactly.
        QStringList keys = meta.keys();
        keys.sort();
        QCOMPARE(keys, (QStringList{QStringLiteral("created_at"), QStringLiteral("downloadable"), QStringLiteral("expires_at"),
                                    QStringLiteral("filename"), QStringLiteral("id"), QStringLiteral("mime_type"),
                                    QStringLiteral("scope"), QStringLiteral("size_bytes"), QStringLiteral("type")}));
        QCOMPARE(meta.value(QStringLiteral("type")).toString(), QStringLiteral("file"));
        QCOMPARE(meta.value(QStringLiteral("filename")).toString(), QStringLiteral("data.bin"));
        QCOMPARE(meta.value(QStringLiteral("mime_type")).toString(), QStringLiteral("application/octet-stream"));
        QCOMPARE(meta.value(QStringLiteral("size_bytes")).toInteger(), qint64(bytes.size()));
        QCOMPARE(meta.value(QStringLiteral("downloadable")).toBool(), true);
        QVERIFY(meta.value(QStringLiteral("expires_at")).isNull());
        QVERIFY(meta.value(QStringLiteral("scope")).isNull());
        const QDateTime created = QDateTime::fromString(meta.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
        QVERIFY(created.isValid());
        QVERIFY(created >= before && created <= QDateTime::currentDateTimeUtc().addSecs(1));

        // The blob: <dataDir>/files/<id>, owner-only, the exact bytes; the row has its hash.
        QFile blob(filesDir() + u'/' + id);
        QVERIFY(blob.exists());
        QCOMPARE(blob.permissions() & ~(QFile::ReadUser | QFile::WriteUser | QFile::ExeUser),
                 QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(blob.open(QIODevice::ReadOnly));
        QCOMPARE(blob.readAll(), bytes);
        QSqlQuery q = h->backend->database().query(QStringLiteral("SELECT sha256 FROM files WHERE id = ?"));
        q.addBindValue(id);
        QVERIFY(h->backend->database().exec(q).ok() && q.next());
        QCOMPARE(q.value(0).toString().toLatin1(), QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
        QVERIFY(h->backend->files().exists(id));

        auto got = h->get(QStringLiteral("/v1/files/") + id);
        QCOMPARE(got.status, 200);
        QCOMPARE(got.json(), meta);

        auto dl = h->get(QStringLiteral("/v1/files/") + id + QStringLiteral("/content"));
        QCOMPARE(dl.status, 200);
        QCOMPARE(dl.body, bytes);
        QCOMPARE(dl.header("Content-Type"), QByteArray("application/octet-stream"));
        QCOMPARE(dl.header("Content-Length"), QByteArray::number(bytes.size()));
        QVERIFY2(dl.header("Content-Disposition").startsWith("attachment; filename=\"data.bin\""), dl.header("Content-Disposition").constData());
        QVERIFY(dl.header("request-id").startsWith("req_"));

        auto del = h->del(QStringLiteral("/v1/files/") + id);
        QCOMPARE(del.status, 200);
        QCOMPARE(del.json(), (QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("type"), QStringLiteral("file_deleted")}}));
        QVERIFY(!QFile::exists(filesDir() + u'/' + id));
        QVERIFY(!h->backend->files().exists(id));
        for (const QString &path : QStringList{QStringLiteral("/v1/files/") + id, QStringLiteral("/v1/files/") + id + QStringLiteral("/content")}) {
            auto r = h->get(path);
            QCOMPARE(r.status, 404);
            QCOMPARE(r.errorType(), QStringLiteral("not_found_error"));
        }
        auto again = h->del(QStringLiteral("/v1/files/") + id);
        QCOMPARE(again.status, 404);
    }

    void textFileKeepsTypeAndUnicodeName()
    {
        const QByteArray name = "r\xC3\xA9sum\xC3\xA9 \"v2\".txt"; // raw UTF-8 with quotes escaped below
        QByteArray body = "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\xC3\xA9sum\xC3\xA9 \\\"v2\\\".txt\"\r\n"
                          "Content-Type: Text/Plain; charset=utf-8\r\n\r\nhello\nworld\r\n--" + kBoundary + "--\r\n";
        auto up = upload(body);
        QVERIFY2(up.status == 200, up.body.constData());
        const QJsonObject meta = up.json();
        QCOMPARE(meta.value(QStringLiteral("filename")).toString(), QString::fromUtf8(name));
        QCOMPARE(meta.value(QStringLiteral("mime_type")).toString(), QStringLiteral("text/plain; charset=utf-8"));
        QCOMPARE(meta.value(QStringLiteral("size_bytes")).toInteger(), qint64(11));
        auto dl = h->get(QStringLiteral("/v1/files/") + meta.value(QStringLiteral("id")).toString() + QStringLiteral("/content"));
        QCOMPARE(dl.status, 200);
        QCOMPARE(dl.body, QByteArray("hello\nworld"));
        QCOMPARE(dl.header("Content-Type"), QByteArray("text/plain; charset=utf-8"));
        const QByteArray cd = dl.header("Content-Disposition");
        QVERIFY2(cd.contains("filename=\"r_sum_ _v2_.txt\""), cd.constData());
        QVERIFY2(cd.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.txt"), cd.constData());
    }

    void filenameIsSanitised()
    {
        auto up = uploadFile("../../outside.txt", "text/plain", "x");
        QVERIFY2(up.status == 200, up.body.constData());
        QCOMPARE(up.json().value(QStringLiteral("filename")).toString(), QStringLiteral("outside.txt"));
        QVERIFY(!QFile::exists(h->dir.path() + QStringLiteral("/outside.txt")));
        QVERIFY(!QFile::exists(filesDir() + QStringLiteral("/outside.txt")));

        // No filename parameter, or an empty one: "unnamed" plus the type's extension.
        up = upload(form({{"file", std::nullopt, "text/plain", "y"}}));
        QVERIFY2(up.status == 200, up.body.constData());
        QCOMPARE(up.json().value(QStringLiteral("filename")).toString(), QStringLiteral("unnamed.txt"));
        up = upload(form({{"file", QByteArray(""), {}, "z"}}));
        QVERIFY2(up.status == 200, up.body.constData());
        QCOMPARE(up.json().value(QStringLiteral("filename")).toString(), QStringLiteral("unnamed")); // no usual extension
        QCOMPARE(up.json().value(QStringLiteral("mime_type")).toString(), QStringLiteral("application/octet-stream"));
    }

    void expiresInSeconds()
    {
        auto up = upload(form({{"file", QByteArray("e.txt"), "text/plain", "soon"}, {"expires_in_seconds", std::nullopt, {}, "3600"}}));
        QVERIFY2(up.status == 200, up.body.constData());
        const QJsonObject meta = up.json();
        const QDateTime created = QDateTime::fromString(meta.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
        const QDateTime expires = QDateTime::fromString(meta.value(QStringLiteral("expires_at")).toString(), Qt::ISODateWithMs);
        QVERIFY(expires.isValid());
        QCOMPARE(created.secsTo(expires), qint64(3600));
        QCOMPARE(h->get(QStringLiteral("/v1/files/") + meta.value(QStringLiteral("id")).toString()).json(), meta);

        up = upload(form({{"expires_in_seconds", std::nullopt, {}, " 7776000 "}, {"file", QByteArray("f.txt"), "text/plain", "later"}}));
        QVERIFY2(up.status == 200, up.body.constData());
    }

    void expiredFileIsNotFoundAndPurged()
    {
        auto up = upload(form({{"file", QByteArray("old.txt"), "text/plain", "stale"}, {"expires_in_seconds", std::nullopt, {}, "3600"}}));
        QCOMPARE(up.status, 200);
        const QString id = up.json().value(QStringLiteral("id")).toString();
        QVERIFY(QFile::exists(filesDir() + u'/' + id));
        // Move the expiry into the past (expires_in_seconds cannot be below one hour).
        QSqlQuery q = h->backend->database().query(QStringLiteral("UPDATE files SET expires_at = ? WHERE id = ?"));
        q.addBindValue(QStringLiteral("2001-01-01T00:00:00.000Z"));
        q.addBindValue(id);
        QVERIFY(h->backend->database().exec(q).ok());

        auto got = h->get(QStringLiteral("/v1/files/") + id);
        QCOMPARE(got.status, 404);
        QCOMPARE(got.errorType(), QStringLiteral("not_found_error"));
        QCOMPARE(h->get(QStringLiteral("/v1/files/") + id + QStringLiteral("/content")).status, 404);
        QCOMPARE(h->del(QStringLiteral("/v1/files/") + id).status, 404);
        QVERIFY(!QFile::exists(filesDir() + u'/' + id));
        QSqlQuery c = h->backend->database().query(QStringLiteral("SELECT COUNT(*) FROM files WHERE id = ?"));
        c.addBindValue(id);
        QVERIFY(h->backend->database().exec(c).ok() && c.next());
        QCOMPARE(c.value(0).toInt(), 0);
        auto list = h->get(QStringLiteral("/v1/files?ids[]=") + id);
        QCOMPARE(list.status, 200);
        QVERIFY(list.json().value(QStringLiteral("data")).toArray().isEmpty());
    }

    void expiredFilesArePurgedFromLists()
    {
        auto up = upload(form({{"file", QByteArray("old2.txt"), "text/plain", "stale"}, {"expires_in_seconds", std::nullopt, {}, "3600"}}));
        QCOMPARE(up.status, 200);
        const QString id = up.json().value(QStringLiteral("id")).toString();
        QSqlQuery q = h->backend->database().query(QStringLiteral("UPDATE files SET expires_at = ? WHERE id = ?"));
        q.addBindValue(QStringLiteral("2001-01-01T00:00:00.000Z"));
        q.addBindValue(id);
        QVERIFY(h->backend->database().exec(q).ok());
        auto list = h->get(QStringLiteral("/v1/files?limit=100"));
        QCOMPARE(list.status, 200);
        for (const QJsonValue &v : list.json().value(QStringLiteral("data")).toArray())
            QVERIFY(v.toObject().value(QStringLiteral("id")).toString() != id);
        QVERIFY(!QFile::exists(filesDir() + u'/' + id));
    }

    void listPaginatesNewestFirst()
    {
        QStringList made;
        for (int i = 0; i < 3; ++i) {
            auto up = uploadFile("p" + QByteArray::number(i) + ".txt", "text/plain", "page " + QByteArray::number(i));
            QCOMPARE(up.status, 200);
            made.prepend(up.json().value(QStringLiteral("id")).toString()); // newest first
        }
        auto first = h->get(QStringLiteral("/v1/files?limit=2"));
        QCOMPARE(first.status, 200);
        const QJsonArray d1 = first.json().value(QStringLiteral("data")).toArray();
        QCOMPARE(d1.size(), 2);
        QCOMPARE(d1.at(0).toObject().value(QStringLiteral("id")).toString(), made.at(0));
        QCOMPARE(d1.at(1).toObject().value(QStringLiteral("id")).toString(), made.at(1));
        QCOMPARE(d1.at(0).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("file"));
        QVERIFY(!first.json().contains(QStringLiteral("prev_page")));
        const QString next = first.json().value(QStringLiteral("next_page")).toString();
        QVERIFY(!next.isEmpty());

        auto second = h->get(QStringLiteral("/v1/files?limit=2&page=") + next);
        QCOMPARE(second.status, 200);
        const QJsonArray d2 = second.json().value(QStringLiteral("data")).toArray();
        QVERIFY(!d2.isEmpty());
        QCOMPARE(d2.at(0).toObject().value(QStringLiteral("id")).toString(), made.at(2));

        // Walk to the end: every live file exactly once, the last page has next_page null.
        QStringList all;
        QString page;
        for (int guard = 0; guard < 100; ++guard) {
            auto r = h->get(QStringLiteral("/v1/files?limit=3") + (page.isEmpty() ? QString() : QStringLiteral("&page=") + page));
            QCOMPARE(r.status, 200);
            for (const QJsonValue &v : r.json().value(QStringLiteral("data")).toArray())
                all << v.toObject().value(QStringLiteral("id")).toString();
            if (r.json().value(QStringLiteral("next_page")).isNull())
                break;
            page = r.json().value(QStringLiteral("next_page")).toString();
        }
        QCOMPARE(all.size(), h->rowCount(QStringLiteral("files")));
        QCOMPARE(QSet<QString>(all.begin(), all.end()).size(), all.size());

        QCOMPARE(h->get(QStringLiteral("/v1/files?limit=0")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/files?limit=1001")).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/files?page=garbage")).status, 400);
        // Nothing is scoped to a session yet.
        auto scoped = h->get(QStringLiteral("/v1/files?scope_id=sesn_01abc"));
        QCOMPARE(scoped.status, 200);
        QVERIFY(scoped.json().value(QStringLiteral("data")).toArray().isEmpty());
    }

    void listByIds()
    {
        QStringList made;
        for (int i = 0; i < 3; ++i) {
            auto up = uploadFile("i" + QByteArray::number(i) + ".txt", "text/plain", "ids");
            QCOMPARE(up.status, 200);
            made << up.json().value(QStringLiteral("id")).toString();
        }
        // The SDK's spelling (ids%5B%5D=…), a repeated id, and an unknown id that is omitted.
        const QString unknown = QStringLiteral("file_01") + QString(22, u'Z');
        auto r = h->get(QStringLiteral("/v1/files?ids%5B%5D=") + made.at(0) + QStringLiteral("&ids%5B%5D=") + made.at(2)
                        + QStringLiteral("&ids[]=") + made.at(0) + QStringLiteral("&ids[]=") + unknown);
        QCOMPARE(r.status, 200);
        const QJsonArray data = r.json().value(QStringLiteral("data")).toArray();
        QCOMPARE(data.size(), 2);
        QCOMPARE(data.at(0).toObject().value(QStringLiteral("id")).toString(), made.at(2));
        QCOMPARE(data.at(1).toObject().value(QStringLiteral("id")).toString(), made.at(0));
        QVERIFY(r.json().value(QStringLiteral("next_page")).isNull());

        auto mixed = h->get(QStringLiteral("/v1/files?ids[]=") + made.at(0) + QStringLiteral("&limit=1"));
        QCOMPARE(mixed.status, 400);
        QVERIFY(msg(mixed).contains(QStringLiteral("ids")));
        QString many = QStringLiteral("/v1/files?");
        for (int i = 0; i < 101; ++i)
            many += QStringLiteral("ids[]=file_01%1&").arg(i, 22, 10, QChar(u'A'));
        auto tooMany = h->get(many);
        QCOMPARE(tooMany.status, 400);
        QVERIFY(msg(tooMany).contains(QStringLiteral("at most 100")));
    }

    void notFound()
    {
        for (const QString &id : QStringList{QStringLiteral("file_01") + QString(22, u'x'), QStringLiteral("nope"), QStringLiteral("file_%2F..%2Fetc")}) {
            QCOMPARE(h->get(QStringLiteral("/v1/files/") + id).status, 404);
            QCOMPARE(h->get(QStringLiteral("/v1/files/") + id + QStringLiteral("/content")).status, 404);
            QCOMPARE(h->del(QStringLiteral("/v1/files/") + id).status, 404);
        }
    }

    void badUploadsChangeNothing()
    {
        // Something stored already, so "unchanged" is not trivially "empty".
        QCOMPARE(uploadFile("keep.txt", "text/plain", "keep").status, 200);
        const int rows = h->rowCount(QStringLiteral("files"));
        const QStringList dir = blobs();
        QVERIFY(rows > 0);
        QCOMPARE(dir.size(), rows);

        const FormPart ok{"file", QByteArray("a.txt"), "text/plain", "data"};
        auto exp = [](const QByteArray &v) { return FormPart{"expires_in_seconds", std::nullopt, {}, v}; };

        expectRejected(upload(form({exp("3600")})), 400, QStringLiteral("no `file` part"), rows, dir);
        expectRejected(upload(form({})), 400, QStringLiteral("no `file` part"), rows, dir);
        expectRejected(upload(form({{"file", QByteArray("empty.txt"), "text/plain", {}}})), 400, QStringLiteral("empty"), rows, dir);
        expectRejected(upload(form({ok}).chopped(20)), 400, QStringLiteral("malformed multipart"), rows, dir);
        expectRejected(upload(QByteArray("this is not multipart at all")), 400, QStringLiteral("malformed multipart"), rows, dir);
        expectRejected(upload(QByteArray()), 400, QStringLiteral("malformed multipart"), rows, dir);
        expectRejected(upload(form({ok}, "other-boundary")), 400, QStringLiteral("malformed multipart"), rows, dir);
        expectRejected(upload(form({ok}), "application/json"), 400, QStringLiteral("multipart/form-data"), rows, dir);
        expectRejected(h->postRaw(QStringLiteral("/v1/files"), "{\"file\":\"x\"}"), 400, QStringLiteral("multipart/form-data"), rows, dir);
        expectRejected(upload(form({ok}), "text/plain"), 400, QStringLiteral("multipart/form-data"), rows, dir);
        expectRejected(upload(form({ok}), "multipart/form-data"), 400, QStringLiteral("boundary"), rows, dir);
        expectRejected(upload(form({ok}), "multipart/mixed; boundary=" + kBoundary), 400, QStringLiteral("multipart/form-data"), rows, dir);
        for (const QByteArray &v : {QByteArrayLiteral("abc"), QByteArrayLiteral(""), QByteArrayLiteral("3600.5"), QByteArrayLiteral("1e4")})
            expectRejected(upload(form({ok, exp(v)})), 400, QStringLiteral("integer"), rows, dir);
        for (const QByteArray &v : {QByteArrayLiteral("10"), QByteArrayLiteral("3599"), QByteArrayLiteral("7776001"),
                                   QByteArrayLiteral("-3600"), QByteArrayLiteral("0"), QByteArrayLiteral("99999999999999")})
            expectRejected(upload(form({ok, exp(v)})), 400, QStringLiteral("between 3600"), rows, dir);
        expectRejected(upload(form({ok, exp("3600"), exp("7200")})), 400, QStringLiteral("twice"), rows, dir);
        expectRejected(upload(form({ok, ok})), 400, QStringLiteral("more than one"), rows, dir);
        expectRejected(upload(form({ok, {"purpose", std::nullopt, {}, "x"}})), 400, QStringLiteral("unexpected form field `purpose`"), rows, dir);
        expectRejected(upload(form({{"file", QByteArray(256, 'n'), "text/plain", "x"}})), 400, QStringLiteral("limit is 255"), rows, dir);
        expectRejected(upload(form({{"file", QByteArray("a.txt"), "not a type", "x"}})), 400, QStringLiteral("MIME type"), rows, dir);
        expectRejected(upload(form({{"file", QByteArray("a\"b"), "text/plain", "x"}})), 400, QStringLiteral("malformed multipart"), rows, dir);
        // 401 before anything is parsed or written.
        expectRejected(upload(form({ok}), multipartType(), false), 401, QStringLiteral("API key"), rows, dir);
        QCOMPARE(upload(form({ok}), multipartType(), false).errorType(), QStringLiteral("authentication_error"));
    }

    void unauthenticatedReadsAre401()
    {
        for (const QByteArray &method : {QByteArrayLiteral("GET"), QByteArrayLiteral("DELETE")}) {
            auto r = h->request(method, QStringLiteral("/v1/files"), {}, {}, false);
            QCOMPARE(r.status, 401);
            QCOMPARE(r.errorType(), QStringLiteral("authentication_error"));
        }
        auto r = h->request("GET", QStringLiteral("/v1/files/file_01") + QString(22, u'a') + QStringLiteral("/content"), {}, {}, false);
        QCOMPARE(r.status, 401);
    }

    void survivesRestartAndSweepsOrphans()
    {
        auto up = uploadFile("persist.bin", "application/octet-stream", binaryPayload());
        QCOMPARE(up.status, 200);
        const QString id = up.json().value(QStringLiteral("id")).toString();
        // A blob without a row (a crash between the blob write and the row commit).
        QFile orphan(filesDir() + QStringLiteral("/file_01orphanorphanorphanorph"));
        QVERIFY(orphan.open(QIODevice::WriteOnly));
        orphan.write("orphan");
        orphan.close();

        QVERIFY(h->start());
        QCOMPARE(h->backend->database().schemaVersion(), Database::latestSchemaVersion());
        QVERIFY(!orphan.exists());
        auto got = h->get(QStringLiteral("/v1/files/") + id);
        QCOMPARE(got.status, 200);
        QCOMPARE(got.json(), up.json());
        auto dl = h->get(QStringLiteral("/v1/files/") + id + QStringLiteral("/content"));
        QCOMPARE(dl.status, 200);
        QCOMPARE(dl.body, binaryPayload());
        QCOMPARE(blobs().size(), h->rowCount(QStringLiteral("files")));
    }
};

QTEST_GUILESS_MAIN(TestApiFiles)
#include "tst_api_files.moc"
