#include "Translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

namespace viv {

int installTranslations(QCoreApplication &app, const QLocale &locale)
{
    int installed = 0;
    const auto add = [&](const QString &name, const QString &dir) {
        auto *t = new QTranslator(&app);
        if (t->load(locale, name, QStringLiteral("_"), dir) && QCoreApplication::installTranslator(t))
            ++installed;
        else
            delete t;
    };
    add(QStringLiteral("qtbase"), QLibraryInfo::path(QLibraryInfo::TranslationsPath));
    add(QStringLiteral("vivarium"), QStringLiteral(":/i18n"));
    return installed;
}

} // namespace viv
