#pragma once

#include <QLocale>

class QCoreApplication;

namespace viv {

// Installs the translations for `locale` on the application: Qt's own (qtbase_<lang>.qm from
// QLibraryInfo::TranslationsPath — standard buttons, file dialogs) and Vivarium's (:/i18n).
// The translators live as children of `app`. Returns how many were installed.
int installTranslations(QCoreApplication &app, const QLocale &locale = QLocale());

} // namespace viv
