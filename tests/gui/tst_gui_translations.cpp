// Qt's own strings follow the locale (issue 16 item 9): installTranslations() loads qtbase_<lang>.qm
// from QLibraryInfo::TranslationsPath, so standard buttons and dialogs are German under de_DE.
#include "Translations.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QMessageBox>
#include <QPushButton>
#include <QTest>

class TestGuiTranslations : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void standardButtonsAreGermanUnderDeDe()
    {
        QMessageBox english(QMessageBox::Question, QStringLiteral("t"), QStringLiteral("t"),
                            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
        QCOMPARE(english.button(QMessageBox::Cancel)->text(), QStringLiteral("Cancel")); // before: Qt's English

        QVERIFY(viv::installTranslations(*qApp, QLocale(QStringLiteral("de_DE"))) >= 1);
        QMessageBox box(QMessageBox::Question, QStringLiteral("t"), QStringLiteral("t"),
                        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
        QCOMPARE(box.button(QMessageBox::Save)->text().remove(u'&'), QStringLiteral("Speichern"));
        QCOMPARE(box.button(QMessageBox::Discard)->text().remove(u'&'), QStringLiteral("Verwerfen"));
        QCOMPARE(box.button(QMessageBox::Cancel)->text().remove(u'&'), QStringLiteral("Abbrechen"));
        QDialogButtonBox buttons(QDialogButtonBox::Ok | QDialogButtonBox::Close);
        QCOMPARE(buttons.button(QDialogButtonBox::Close)->text().remove(u'&'), QStringLiteral("Schließen"));
    }
};

QTEST_MAIN(TestGuiTranslations)
#include "tst_gui_translations.moc"
