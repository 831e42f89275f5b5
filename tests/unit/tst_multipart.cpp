// multipart/form-data parsing edge cases (backend/api/Multipart), and the file service's
// filename / MIME type rules, without a server.

#include "api/Multipart.h"
#include "services/FileService.h"

#include <QTest>

using namespace viv;

namespace {

const QByteArray kB = QByteArrayLiteral("----formdata-undici-012345678901");

QByteArray part(const QByteArray &disposition, const QByteArray &contentType, const QByteArray &body)
{
    QByteArray out = "--" + kB + "\r\nContent-Disposition: " + disposition + "\r\n";
    if (!contentType.isEmpty())
        out += "Content-Type: " + contentType + "\r\n";
    return out + "\r\n" + body + "\r\n";
}

QByteArray close()
{
    return "--" + kB + "--\r\n";
}

QString errorOf(const Result<QList<multipart::Part>> &r)
{
    return r ? QString() : r.error().message();
}

} // namespace

class TestMultipart : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void boundaryFromContentType()
    {
        auto b = multipart::boundaryFromContentType("multipart/form-data; boundary=abc123");
        QVERIFY(b.ok());
        QCOMPARE(*b, QByteArray("abc123"));
        b = multipart::boundaryFromContentType("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b'()+_,-./:=?\"");
        QVERIFY(b.ok());
        QCOMPARE(*b, QByteArray("a b'()+_,-./:=?"));
        b = multipart::boundaryFromContentType("  multipart/form-data ;  boundary = x  ");
        QVERIFY(b.ok());
        QCOMPARE(*b, QByteArray("x"));
    }
    void boundaryErrors_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QString>("needle");
        QTest::newRow("none") << QByteArray() << QStringLiteral("must be multipart/form-data");
        QTest::newRow("json") << QByteArray("application/json") << QStringLiteral("must be multipart/form-data");
        QTest::newRow("mixed") << QByteArray("multipart/mixed; boundary=x") << QStringLiteral("must be multipart/form-data");
        QTest::newRow("no boundary") << QByteArray("multipart/form-data") << QStringLiteral("needs a boundary");
        QTest::newRow("other param only") << QByteArray("multipart/form-data; charset=utf-8") << QStringLiteral("needs a boundary");
        QTest::newRow("empty quoted") << QByteArray("multipart/form-data; boundary=\"\"") << QStringLiteral("1 to 70");
        QTest::newRow("too long") << QByteArray("multipart/form-data; boundary=" + QByteArray(71, 'a')) << QStringLiteral("1 to 70");
        QTest::newRow("bad char") << QByteArray("multipart/form-data; boundary=\"a\\\"b\"") << QStringLiteral("1 to 70");
        QTest::newRow("trailing space") << QByteArray("multipart/form-data; boundary=\"ab \"") << QStringLiteral("1 to 70");
        QTest::newRow("unterminated") << QByteArray("multipart/form-data; boundary=\"abc") << QStringLiteral("unterminated");
        QTest::newRow("no value") << QByteArray("multipart/form-data; boundary") << QStringLiteral("no value");
        QTest::newRow("twice") << QByteArray("multipart/form-data; boundary=a; boundary=b") << QStringLiteral("twice");
    }
    void boundaryErrors()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(QString, needle);
        auto b = multipart::boundaryFromContentType(contentType);
        QVERIFY(!b.ok());
        QCOMPARE(b.error().kind(), ApiError::Kind::InvalidRequest);
        QVERIFY2(b.error().message().contains(needle), qPrintable(b.error().message()));
    }

    void contentDisposition()
    {
        auto d = multipart::parseContentDisposition("form-data; name=\"file\"; filename=\"a b.txt\"");
        QVERIFY(d.ok());
        QCOMPARE(d->type, QByteArray("form-data"));
        QCOMPARE(*d->name, QStringLiteral("file"));
        QCOMPARE(*d->filename, QStringLiteral("a b.txt"));

        // Bare tokens, case-insensitive names, escaped quote, Windows path kept intact.
        d = multipart::parseContentDisposition("Form-Data; NAME=file; FileName=\"C:\\dir\\say \\\"hi\\\".txt\"");
        QVERIFY(d.ok());
        QCOMPARE(d->type, QByteArray("form-data"));
        QCOMPARE(*d->name, QStringLiteral("file"));
        QCOMPARE(*d->filename, QStringLiteral("C:\\dir\\say \"hi\".txt"));

        // filename* (RFC 5987) wins over filename, in either order.
        d = multipart::parseContentDisposition(
            "form-data; filename*=UTF-8''%C3%A9t%C3%A9%20%E2%82%AC.txt; name=\"file\"; filename=\"ete.txt\"");
        QVERIFY(d.ok());
        QCOMPARE(*d->filename, QString::fromUtf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC.txt"));

        // Raw UTF-8 in a quoted filename (what browsers and undici send).
        d = multipart::parseContentDisposition("form-data; name=\"file\"; filename=\"\xE6\x97\xA5\xE6\x9C\xAC.txt\"");
        QVERIFY(d.ok());
        QCOMPARE(*d->filename, QString::fromUtf8("\xE6\x97\xA5\xE6\x9C\xAC.txt"));

        // No filename at all vs an empty one.
        d = multipart::parseContentDisposition("form-data; name=\"expires_in_seconds\"");
        QVERIFY(d.ok());
        QVERIFY(!d->filename.has_value());
        d = multipart::parseContentDisposition("form-data; name=\"file\"; filename=\"\"");
        QVERIFY(d.ok());
        QVERIFY(d->filename.has_value());
        QVERIFY(d->filename->isEmpty());

        QVERIFY(!multipart::parseContentDisposition("form-data; name=\"x").ok());
        QVERIFY(!multipart::parseContentDisposition("; name=x").ok());
        QVERIFY(!multipart::parseContentDisposition("form-data; name=a; name=b").ok());
        QVERIFY(!multipart::parseContentDisposition("form-data; filename*=koi8-r''abc; name=a").ok());
        QVERIFY(!multipart::parseContentDisposition("form-data; filename*=abc; name=a").ok());
    }

    void parsesParts()
    {
        const QByteArray binary("\x00\x01\r\n--not-the-boundary\r\n\xff\x00", 26);
        const QByteArray body = "preamble to ignore\r\n"
                                + part("form-data; name=\"file\"; filename=\"bin.dat\"", "application/octet-stream", binary)
                                + part("form-data; name=\"expires_in_seconds\"", {}, "3600")
                                + close() + "epilogue to ignore";
        auto parts = multipart::parse(body, kB);
        QVERIFY2(parts.ok(), qPrintable(errorOf(parts)));
        QCOMPARE(parts->size(), 2);
        QCOMPARE(parts->at(0).name, QStringLiteral("file"));
        QCOMPARE(*parts->at(0).filename, QStringLiteral("bin.dat"));
        QCOMPARE(parts->at(0).contentType, QByteArray("application/octet-stream"));
        QCOMPARE(parts->at(0).body, binary);
        QCOMPARE(parts->at(1).name, QStringLiteral("expires_in_seconds"));
        QVERIFY(!parts->at(1).filename.has_value());
        QVERIFY(parts->at(1).contentType.isEmpty());
        QCOMPARE(parts->at(1).body, QByteArray("3600"));
    }
    void bodyEndingInCrLfKeepsIt()
    {
        // The CRLF before a delimiter belongs to the delimiter; content CRLFs are kept.
        const QByteArray body = part("form-data; name=\"file\"; filename=\"a\"", "text/plain", "line\r\n\r\n") + close();
        auto parts = multipart::parse(body, kB);
        QVERIFY2(parts.ok(), qPrintable(errorOf(parts)));
        QCOMPARE(parts->at(0).body, QByteArray("line\r\n\r\n"));
    }
    void emptyPartBodyAndPaddingAndFolding()
    {
        const QByteArray body = "--" + kB + " \t\r\ncontent-disposition: form-data;\r\n name=\"file\";\r\n\tfilename=\"e.txt\"\r\n\r\n\r\n"
                                + "--" + kB + "--";
        auto parts = multipart::parse(body, kB);
        QVERIFY2(parts.ok(), qPrintable(errorOf(parts)));
        QCOMPARE(parts->size(), 1);
        QCOMPARE(parts->at(0).name, QStringLiteral("file"));
        QCOMPARE(*parts->at(0).filename, QStringLiteral("e.txt"));
        QVERIFY(parts->at(0).body.isEmpty());
    }
    void onlyCloseDelimiterIsNoParts()
    {
        auto parts = multipart::parse(close(), kB);
        QVERIFY(parts.ok());
        QVERIFY(parts->isEmpty());
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("needle");
        const QByteArray filePart = part("form-data; name=\"file\"; filename=\"a.txt\"", "text/plain", "hello");
        QTest::newRow("empty body") << QByteArray() << QStringLiteral("never occurs");
        QTest::newRow("other boundary") << QByteArray("--other\r\n\r\n--other--") << QStringLiteral("never occurs");
        QTest::newRow("no close delimiter") << QByteArray(filePart) << QStringLiteral("truncated");
        QTest::newRow("truncated in part") << filePart.left(filePart.size() - 4) << QStringLiteral("not closed");
        QTest::newRow("boundary prefix of a line") << QByteArray("--" + kB + "X\r\n") << QStringLiteral("must end with CRLF");
        QTest::newRow("bare LF after boundary") << QByteArray("--" + kB + "\nContent-Disposition: form-data; name=a\n\nx\n--" + kB + "--")
                                                << QStringLiteral("must end with CRLF");
        QTest::newRow("no blank line") << QByteArray("--" + kB + "\r\nContent-Disposition: form-data; name=a\r\n--" + kB + "--")
                                       << QStringLiteral("not followed by an empty line");
        QTest::newRow("no disposition") << QByteArray("--" + kB + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + kB + "--")
                                        << QStringLiteral("no Content-Disposition");
        QTest::newRow("no headers") << QByteArray("--" + kB + "\r\n\r\nx\r\n--" + kB + "--") << QStringLiteral("no Content-Disposition");
        QTest::newRow("not form-data") << QByteArray(part("attachment; name=\"file\"", {}, "x") + close())
                                       << QStringLiteral("must be form-data");
        QTest::newRow("no name") << QByteArray(part("form-data; filename=\"a\"", {}, "x") + close()) << QStringLiteral("no field name");
        QTest::newRow("header without colon") << QByteArray("--" + kB + "\r\nContent-Disposition form-data\r\n\r\nx\r\n--" + kB + "--")
                                              << QStringLiteral("without a name");
        QTest::newRow("two dispositions") << QByteArray("--" + kB + "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--" + kB + "--")
                                          << QStringLiteral("given twice");
        QTest::newRow("stray CR in header") << QByteArray("--" + kB + "\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\nx\r\n--" + kB + "--")
                                            << QStringLiteral("stray CR");
        QTest::newRow("unterminated quote") << QByteArray(part("form-data; name=\"file", {}, "x") + close()) << QStringLiteral("unterminated");
        QByteArray many;
        for (int i = 0; i <= multipart::kMaxParts; ++i)
            many += part("form-data; name=\"f\"", {}, "x");
        QTest::newRow("too many parts") << QByteArray(many + close()) << QStringLiteral("more than");
        QTest::newRow("huge headers") << QByteArray("--" + kB + "\r\nX-Pad: " + QByteArray(multipart::kMaxHeaderBytes, 'p')
                                                    + "\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" + kB + "--")
                                      << QStringLiteral("exceed");
    }
    void malformed()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, needle);
        auto parts = multipart::parse(body, kB);
        QVERIFY(!parts.ok());
        QCOMPARE(parts.error().kind(), ApiError::Kind::InvalidRequest);
        QVERIFY2(parts.error().message().startsWith(QStringLiteral("malformed multipart/form-data body")),
                 qPrintable(parts.error().message()));
        QVERIFY2(parts.error().message().contains(needle), qPrintable(parts.error().message()));
    }

    void sanitizeFilename()
    {
        const QString octet = QStringLiteral("application/octet-stream");
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("report.pdf"), octet), QStringLiteral("report.pdf"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("../../etc/passwd"), octet), QStringLiteral("passwd"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("C:\\Users\\me\\notes.txt"), octet), QStringLiteral("notes.txt"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("a\tb\nc\x7f.txt"), octet), QStringLiteral("abc.txt"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("  spaced name.txt  "), octet), QStringLiteral("spaced name.txt"));
        QCOMPARE(*FileService::sanitizeFilename(QString::fromUtf8("\xC3\xA9t\xC3\xA9.md"), octet), QString::fromUtf8("\xC3\xA9t\xC3\xA9.md"));
        // Empty, "." and ".." (and names that become so) turn into unnamed + the type's suffix.
        QCOMPARE(*FileService::sanitizeFilename(QString(), QStringLiteral("text/plain")), QStringLiteral("unnamed.txt"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral("dir/"), QStringLiteral("application/pdf")), QStringLiteral("unnamed.pdf"));
        QCOMPARE(*FileService::sanitizeFilename(QStringLiteral(".."), QStringLiteral("application/x-unknown-thing")), QStringLiteral("unnamed"));
        // 255 UTF-8 bytes is fine, 256 is not (é is two bytes).
        QVERIFY(FileService::sanitizeFilename(QString(255, u'a'), octet).ok());
        QVERIFY(!FileService::sanitizeFilename(QString(256, u'a'), octet).ok());
        QVERIFY(!FileService::sanitizeFilename(QString(128, QChar(0xe9)), octet).ok());
        QVERIFY(FileService::sanitizeFilename(QStringLiteral("/very/long/path/") + QString(200, u'd') + QStringLiteral("/x.txt"), octet).ok());
    }
    void normalizeMimeType()
    {
        QCOMPARE(*FileService::normalizeMimeType(QString()), QStringLiteral("application/octet-stream"));
        QCOMPARE(*FileService::normalizeMimeType(QStringLiteral(" Text/Plain; charset=UTF-8 ")), QStringLiteral("text/plain; charset=UTF-8"));
        QCOMPARE(*FileService::normalizeMimeType(QStringLiteral("image/svg+xml")), QStringLiteral("image/svg+xml"));
        QVERIFY(!FileService::normalizeMimeType(QStringLiteral("text")).ok());
        QVERIFY(!FileService::normalizeMimeType(QStringLiteral("text/")).ok());
        QVERIFY(!FileService::normalizeMimeType(QStringLiteral("text/plain\r\nX-Evil: 1")).ok());
        QVERIFY(!FileService::normalizeMimeType(QStringLiteral("a b/c")).ok());
    }
};

QTEST_GUILESS_MAIN(TestMultipart)
#include "tst_multipart.moc"
