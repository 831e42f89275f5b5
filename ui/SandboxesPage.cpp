#include "SandboxesPage.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "SandboxView.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"
#include "services/SessionService.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
enum Column { IdColumn, StateColumn, SessionColumn };

// The states a sandbox can be in and their labels.
constexpr std::pair<const char *, const char *> kStateLabels[] = {
    {"booting", QT_TRANSLATE_NOOP("viv::SandboxesPage", "booting")},
    {"running", QT_TRANSLATE_NOOP("viv::SandboxesPage", "running")},
    {"paused", QT_TRANSLATE_NOOP("viv::SandboxesPage", "paused")},
    {"dead", QT_TRANSLATE_NOOP("viv::SandboxesPage", "stopped")},
};

QString stateText(const QString &state)
{
    for (const auto &[key, text] : kStateLabels)
        if (state == QLatin1String(key))
            return SandboxesPage::tr(text);
    return state;
}
} // namespace

SandboxesPage::SandboxesPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("sandboxesPage"), QStringLiteral("sandboxesBanner"), parent)
{
    auto [left, leftLayout] = addColumn();
    m_warm = named(new QLabel(left), QStringLiteral("warmPool"));
    m_accel = named(new QLabel(left), QStringLiteral("sandboxAcceleration"));
    m_accel->setWordWrap(true);
    m_list = named(new QTreeWidget(left), QStringLiteral("sandboxList"));
    m_list->setHeaderLabels({tr("Sandbox"), tr("State"), tr("Session")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setTextElideMode(Qt::ElideMiddle);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(IdColumn, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(StateColumn, QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(SessionColumn, QHeaderView::Stretch);
    m_delete = named(new QPushButton(tr("Delete sandbox…"), left), QStringLiteral("deleteSandbox"));
    m_delete->setToolTip(tr("Stop the VM and delete its disks"));
    m_delete->setEnabled(false);
    leftLayout->addWidget(m_warm);
    leftLayout->addWidget(m_accel);
    leftLayout->addWidget(banner());
    leftLayout->addWidget(m_list, 1);
    leftLayout->addWidget(m_delete);

    m_view = new SandboxView(bridge, splitter());
    m_view->setNoSandboxText(tr("Select a sandbox to see its state, files and console."));
    m_view->setSandbox({});
    splitter()->addWidget(m_view);
    setColumnSizes({340, 860});

    connect(m_list, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        m_delete->setEnabled(item != nullptr);
        const QString id = item ? item->text(IdColumn) : QString();
        if (id != m_view->sandboxId())
            m_view->setSandbox(id);
    });
    connect(m_delete, &QPushButton::clicked, this, &SandboxesPage::deleteSelected);
    connect(&m_bridge, &BackendBridge::sandboxChanged, this, [this](const QString &id, const QJsonObject &info) {
        if (info.value(QStringLiteral("deleted")).toBool()) {
            delete itemFor(id);
            return;
        }
        QTreeWidgetItem *item = itemFor(id);
        upsert(info, item ? item->data(SessionColumn, Qt::UserRole).toString() : QString(), QString());
        if (!item) // new: which session it belongs to is known on the backend thread
            reload();
    });
    connect(&m_bridge, &BackendBridge::sessionSandboxChanged, this, [this] { reload(); });
    // A claim from the warm pool changes the pool's size and nothing else the GUI hears of.
    connect(&m_bridge, &BackendBridge::warmPoolChanged, this, [this](int ready) {
        showWarmPool(ready);
        reload();
    });
    connect(&m_bridge, &BackendBridge::accelerationChanged, this, &SandboxesPage::showAcceleration);
}

QTreeWidgetItem *SandboxesPage::itemFor(const QString &id) const
{
    for (int i = 0; i < m_list->topLevelItemCount(); ++i)
        if (m_list->topLevelItem(i)->text(IdColumn) == id)
            return m_list->topLevelItem(i);
    return nullptr;
}

void SandboxesPage::showWarmPool(int ready)
{
    m_warm->setText(tr("Warm pool: %1 VM ready", "a count of pre-booted VMs").arg(ready));
}

void SandboxesPage::showAcceleration(const QJsonObject &acceleration)
{
    const QString accel = acceleration.value(QStringLiteral("accelerator")).toString();
    const QString setting = acceleration.value(QStringLiteral("setting")).toString();
    QString text;
    if (accel == u"kvm")
        text = tr("VMs run under KVM (hardware virtualisation).");
    else if (accel == u"tcg")
        text = tr("VMs run under TCG (software emulation: slower).");
    else
        text = tr("KVM is being tried: the first VM boot decides between KVM and TCG.");
    if (setting != u"auto")
        text += u' ' + tr("Set in Settings → General (or VIVARIUM_SANDBOX_ACCEL).");
    // The reason, as decided: "auto: a VM did not come up under KVM (…)".
    m_accel->setText(text.toHtmlEscaped() + QStringLiteral("<br><small>%1</small>")
                                                 .arg(acceleration.value(QStringLiteral("reason")).toString().toHtmlEscaped()));
}

void SandboxesPage::upsert(const QJsonObject &info, const QString &sessionId, const QString &title)
{
    const QString id = info.value(QStringLiteral("sandboxID")).toString();
    QTreeWidgetItem *item = itemFor(id);
    if (!item) {
        item = new QTreeWidgetItem(m_list);
        item->setText(IdColumn, id);
    }
    item->setText(StateColumn, stateText(info.value(QStringLiteral("state")).toString()));
    item->setToolTip(StateColumn, info.value(QStringLiteral("error")).toString());
    item->setData(SessionColumn, Qt::UserRole, sessionId);
    if (sessionId.isEmpty())
        item->setText(SessionColumn, tr("(API)"));
    else if (!title.isEmpty())
        item->setText(SessionColumn, title);
    else if (item->text(SessionColumn).isEmpty() || item->text(SessionColumn) == tr("(API)"))
        item->setText(SessionColumn, sessionId);
    item->setToolTip(SessionColumn, sessionId);
    const QDateTime started = QDateTime::fromString(info.value(QStringLiteral("startedAt")).toString(), Qt::ISODateWithMs);
    item->setToolTip(IdColumn, started.isValid() ? tr("%1, started %2").arg(id, QLocale().toString(started.toLocalTime(), QLocale::ShortFormat))
                                                  : id);
}

void SandboxesPage::reload()
{
    struct Listed
    {
        QList<QJsonObject> sandboxes;
        QStringList sessions;
        QStringList titles;
        int warm = 0;
        QJsonObject acceleration;
    };
    request<Listed>(
        [](Backend &b) -> Result<Listed> {
            Listed out;
            for (const auto &info : b.sandboxes().list()) {
                out.sandboxes << info.toJson();
                const QString session = b.sandboxes().sessionOfSandbox(info.id);
                out.sessions << session;
                auto doc = session.isEmpty() ? Result<QJsonObject>(QJsonObject{}) : b.sessions().retrieve(session);
                out.titles << (doc ? doc->value(QStringLiteral("title")).toString() : QString());
            }
            out.warm = b.sandboxes().warmCount();
            out.acceleration = b.sandboxes().acceleration().toJson();
            return out;
        },
        [this](const Listed &r) {
            QSet<QString> seen;
            for (qsizetype i = 0; i < r.sandboxes.size(); ++i) {
                upsert(r.sandboxes.at(i), r.sessions.at(i), r.titles.at(i));
                seen.insert(r.sandboxes.at(i).value(QStringLiteral("sandboxID")).toString());
            }
            for (int i = m_list->topLevelItemCount() - 1; i >= 0; --i)
                if (!seen.contains(m_list->topLevelItem(i)->text(IdColumn)))
                    delete m_list->topLevelItem(i);
            showWarmPool(r.warm);
            showAcceleration(r.acceleration);
            Q_EMIT reloaded(m_list->topLevelItemCount());
        });
}

void SandboxesPage::deleteSelected()
{
    QTreeWidgetItem *item = m_list->currentItem();
    if (!item)
        return;
    const QString id = item->text(IdColumn);
    const QString session = item->data(SessionColumn, Qt::UserRole).toString();
    const QString text = session.isEmpty()
        ? tr("Delete sandbox %1? Its VM stops and its files are deleted.").arg(id)
        : tr("Delete sandbox %1 of session %2? Its VM stops; the session's next tool call starts a new one.").arg(id, session);
    if (!confirm(this, tr("Delete sandbox"), text))
        return;
    m_bridge.callAsync<Ok>(
        this, [id](Backend &b, Callback<Ok> done) { b.sandboxes().destroy(id, std::move(done)); },
        [this, id](Status s) {
            if (!s) {
                banner()->showError(tr("Could not delete sandbox %1: %2").arg(id, errorText(s.error())));
                return;
            }
            banner()->showInfo(tr("Sandbox %1 deleted.").arg(id));
            reload();
        });
}

} // namespace viv
