// libvirt save-image headers (backend/sandbox/SaveImage): reading, rewriting with another
// domain XML, refusing what is not a complete raw version-2 image, and the FIFO feed that VM
// templates restore through, against a stand-in for libvirt that reads (or never opens) it.

#include "sandbox/SaveImage.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace viv;

namespace {

constexpr int kFixed = 92; // magic + 19 words

QByteArray header(const QByteArray &magic, quint32 version, quint32 dataLen, quint32 compressed, quint32 cookieOffset)
{
    QByteArray h(kFixed, '\0');
    std::memcpy(h.data(), magic.constData(), 16);
    const quint32 words[] = {version, dataLen, 1, compressed, cookieOffset};
    std::memcpy(h.data() + 16, words, sizeof words);
    return h;
}

// A save image as libvirt lays it out: XML, NUL, cookie, NUL padding, then "QEMU's stream".
QByteArray image(const QByteArray &xml, const QByteArray &cookie, const QByteArray &stream, quint32 padding = 4096,
                 const QByteArray &magic = "LibvirtQemudSave", quint32 version = 2, quint32 compressed = 0)
{
    QByteArray data = xml + '\0' + cookie + '\0';
    data.append(QByteArray(int(padding), '\0'));
    return header(magic, version, quint32(data.size()), compressed, quint32(xml.size() + 1)) + data + stream;
}

QByteArray stream()
{
    QByteArray s;
    for (int i = 0; i < 300000; ++i)
        s.append(char('a' + i % 26));
    return s;
}

bool write(const QString &path, const QByteArray &data)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

} // namespace

class TestSaveImage : public QObject
{
    Q_OBJECT
    QTemporaryDir dir;
    QString path(const char *name) const { return dir.filePath(QString::fromLatin1(name)); }

private Q_SLOTS:
    void readsTheHeader()
    {
        const QByteArray xml = "<domain type='qemu'><name>vivarium-a-sbx_1</name></domain>";
        QVERIFY(write(path("a.save"), image(xml, "<cookie/>", stream())));
        auto h = saveimage::readHeader(path("a.save"));
        QVERIFY2(h.ok(), h.ok() ? "" : qPrintable(h.error().message()));
        QCOMPARE(h->xml, xml);
        QCOMPARE(h->cookie, QByteArray("<cookie/>"));
        QCOMPARE(h->streamOffset, qint64(kFixed + xml.size() + 1 + 9 + 1 + 4096));
        QCOMPARE(QFile(path("a.save")).size() - h->streamOffset, qint64(stream().size()));
    }

    void rewritesTheXmlInThePadding()
    {
        QVERIFY(write(path("b.save"), image("<domain><name>short</name></domain>", "<cookie/>", stream())));
        auto h = saveimage::readHeader(path("b.save"));
        QVERIFY(h.ok());
        const QByteArray longer = "<domain><name>a-much-longer-name-for-the-clone</name><uuid>x</uuid></domain>";
        auto head = saveimage::rewrittenHeader(*h, longer);
        QVERIFY(head.ok());
        QCOMPARE(head->size(), qsizetype(h->streamOffset)); // QEMU's stream stays where it was
        QVERIFY(write(path("b2.save"), *head + stream()));
        auto again = saveimage::readHeader(path("b2.save"));
        QVERIFY(again.ok());
        QCOMPARE(again->xml, longer);
        QCOMPARE(again->cookie, QByteArray("<cookie/>"));
        QCOMPARE(again->streamOffset, h->streamOffset);
        // More than the padding holds is refused.
        auto tooLong = saveimage::rewrittenHeader(*h, QByteArray(5000, 'x'));
        QVERIFY(!tooLong.ok());
        QVERIFY(tooLong.error().message().contains(QStringLiteral("does not fit")));
        QVERIFY(!saveimage::rewrittenHeader(*h, QByteArray("a\0b", 3)).ok());
    }

    void refusesWhatItCannotClone_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("why");
        const QByteArray xml = "<domain/>";
        QTest::newRow("unfinished save") << image(xml, "c", stream(), 64, "LibvirtQemudPart") << "not a complete";
        QTest::newRow("other version") << image(xml, "c", stream(), 64, "LibvirtQemudSave", 3) << "version 3";
        QTest::newRow("compressed") << image(xml, "c", stream(), 64, "LibvirtQemudSave", 2, 1) << "compressed";
        QTest::newRow("not a save image") << QByteArray("hello world, this is not it") << "not a complete";
        QTest::newRow("truncated") << image(xml, "c", {}, 64).left(kFixed + 4) << "truncated";
        QTest::newRow("data length beyond reason")
            << header("LibvirtQemudSave", 2, 0x7fffffff, 0, 0) + xml << "malformed";
        QTest::newRow("cookie offset not after the XML")
            << header("LibvirtQemudSave", 2, 64, 0, 3) + xml + QByteArray(64, '\0') << "malformed";
    }
    void refusesWhatItCannotClone()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, why);
        QVERIFY(write(path("bad.save"), bytes));
        auto h = saveimage::readHeader(path("bad.save"));
        QVERIFY(!h.ok());
        QVERIFY2(h.error().message().contains(why), qPrintable(h.error().message()));
    }

    // The FIFO carries the rewritten header and then the stream, byte for byte, and is gone after.
    void feedsTheImageThroughAFifo()
    {
        QVERIFY(write(path("c.save"), image("<domain><name>template</name></domain>", "<cookie/>", stream())));
        const QByteArray xml = "<domain><name>clone-0001</name></domain>";
        QByteArray received;
        const QString fifo = path("c.fifo");
        Status s = saveimage::restoreWithXml(path("c.save"), xml, fifo, [&](const QString &p) -> Status {
            QFile f(p);
            if (!f.open(QIODevice::ReadOnly))
                return ApiError::internal(QStringLiteral("cannot open the FIFO"));
            received = f.readAll();
            return Ok{};
        });
        QVERIFY2(s.ok(), s.ok() ? "" : qPrintable(s.error().message()));
        auto h = saveimage::readHeader(path("c.save"));
        QVERIFY(h.ok());
        QCOMPARE(received, *saveimage::rewrittenHeader(*h, xml) + stream());
        QVERIFY(!QFile::exists(fifo));
    }

    // libvirt failing before it opens the FIFO, or after reading only the header, must not
    // leave the writer blocked: the call returns with libvirt's error.
    void aRefusedRestoreDoesNotHang()
    {
        QVERIFY(write(path("d.save"), image("<domain/>", "<cookie/>", stream())));
        QElapsedTimer clock;
        clock.start();
        // Many times: whether the writer thread is already waiting when libvirt gives up is a
        // matter of scheduling (an earlier version hung when it was not).
        for (int i = 0; i < 50; ++i) {
            Status never = saveimage::restoreWithXml(path("d.save"), "<domain/>", path("d.fifo"), [](const QString &) -> Status {
                return ApiError::internal(QStringLiteral("refused before reading"));
            });
            QVERIFY(!never.ok());
            QCOMPARE(never.error().message(), QStringLiteral("refused before reading"));
        }
        Status early = saveimage::restoreWithXml(path("d.save"), "<domain/>", path("d.fifo"), [](const QString &p) -> Status {
            QFile f(p);
            if (f.open(QIODevice::ReadOnly))
                f.read(100); // the header only, then closed
            return ApiError::internal(QStringLiteral("refused after the header"));
        });
        QVERIFY(!early.ok());
        QVERIFY(early.error().message().startsWith(QStringLiteral("refused after the header")));
        QVERIFY(clock.elapsed() < 10000);
        QVERIFY(!QFile::exists(path("d.fifo")));
    }
};

QTEST_GUILESS_MAIN(TestSaveImage)
#include "tst_save_image.moc"
