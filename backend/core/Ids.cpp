#include "Ids.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

namespace viv::ids {

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

QString randomBase62(int length, QRandomGenerator *rng = QRandomGenerator::system())
{
    QString out;
    out.reserve(length);
    for (int i = 0; i < length; ++i)
        out.append(QLatin1Char(kAlphabet[rng->bounded(62)]));
    return out;
}
} // namespace

QString make(QStringView prefix)
{
    return prefix.toString() + QStringLiteral("_01") + randomBase62(22);
}

QString requestId()
{
    // 128 random bits from the fast generator, base62: two words instead of 22 draws.
    QString out = QStringLiteral("req_01");
    out.reserve(6 + 22);
    auto *rng = QRandomGenerator::global();
    for (int word = 0; word < 2; ++word) {
        quint64 v = rng->generate64();
        for (int i = 0; i < 11; ++i) {
            out.append(QLatin1Char(kAlphabet[v % 62]));
            v /= 62;
        }
    }
    return out;
}

bool looksLike(QStringView prefix, QStringView id)
{
    if (!id.startsWith(prefix) || id.size() <= prefix.size() + 1 || id[prefix.size()] != u'_')
        return false;
    for (QChar c : id.mid(prefix.size() + 1)) {
        if (!(c.isLetterOrNumber() && c.unicode() < 128))
            return false;
    }
    return true;
}

QString derived(QStringView prefix, const QByteArray &material)
{
    QByteArray input = QByteArrayLiteral("vivarium-derived-id:");
    input += prefix.toUtf8();
    input += '\0';
    input += material;
    const QByteArray digest = QCryptographicHash::hash(input, QCryptographicHash::Sha256);
    QString out = prefix.toString() + QStringLiteral("_01");
    for (int i = 0; i < 22; ++i)
        out.append(QLatin1Char(kAlphabet[quint8(digest.at(i)) % 62]));
    return out;
}

QString secret(int bytes)
{
    // 62^n ≥ 256^bytes  ⇒  n ≈ bytes * 1.344
    return randomBase62(int(bytes * 1.35) + 1);
}

} // namespace viv::ids
