#include "SkillsPicker.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/SkillService.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
const QString kLatest = QStringLiteral("latest");
}

SkillsPicker::SkillsPicker(BackendBridge &bridge, QWidget *parent) : QWidget(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("agentSkills"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_table = named(new QTableWidget(0, 2, this), QStringLiteral("agentSkillsTable"));
    m_table->setHorizontalHeaderLabels({tr("Skill"), tr("Version")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setVisible(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setMinimumHeight(90);
    m_available = named(new QComboBox(this), QStringLiteral("agentSkillChoice"));
    m_add = named(new QPushButton(tr("Add skill"), this), QStringLiteral("addAgentSkill"));
    m_remove = named(new QPushButton(tr("Remove"), this), QStringLiteral("removeAgentSkill"));
    m_count = named(new QLabel(this), QStringLiteral("agentSkillsCount"));
    auto *row = new QHBoxLayout;
    row->addWidget(m_available, 1);
    row->addWidget(m_add);
    row->addWidget(m_remove);
    layout->addWidget(m_table);
    layout->addLayout(row);
    layout->addWidget(m_count);

    connect(m_add, &QPushButton::clicked, this, [this] {
        const QString id = m_available->currentData().toString();
        if (id.isEmpty() || m_table->rowCount() + m_other.size() >= kMaxSkills)
            return;
        addRow(id, kLatest);
        updateState();
        Q_EMIT edited();
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        const int r = m_table->currentRow();
        if (r < 0)
            return;
        m_table->removeRow(r);
        updateState();
        Q_EMIT edited();
    });
    connect(m_table, &QTableWidget::currentCellChanged, this, [this] { updateState(); });
    connect(&m_bridge, &BackendBridge::ready, this, &SkillsPicker::reloadAvailable);
    connect(&m_bridge, &BackendBridge::skillChanged, this, &SkillsPicker::reloadAvailable);
    connect(&m_bridge, &BackendBridge::skillRemoved, this, &SkillsPicker::reloadAvailable);
    if (m_bridge.isReady())
        reloadAvailable();
    updateState();
}

void SkillsPicker::reloadAvailable()
{
    struct Skills
    {
        QJsonArray skills;
        QHash<QString, QStringList> versions;
    };
    m_bridge.call<Skills>(
        this,
        [](Backend &b) -> Result<Skills> {
            Skills out;
            auto all = BackendBridge::allPages([&](const PageRequest &r) { return b.skills().list(r, {}); });
            if (!all)
                return all.error();
            out.skills = *all;
            for (const QJsonValue &v : std::as_const(out.skills)) {
                const QString id = v.toObject().value(QStringLiteral("id")).toString();
                auto versions = BackendBridge::allPages([&](const PageRequest &r) { return b.skills().versions(id, r); });
                if (!versions)
                    continue; // deleted meanwhile
                for (const QJsonValue &ver : std::as_const(*versions))
                    out.versions[id] << ver.toObject().value(QStringLiteral("id")).toString();
            }
            return out;
        },
        [this](Result<Skills> r) {
            if (!r)
                return;
            m_names.clear();
            m_versions = r->versions;
            const QString keep = m_available->currentData().toString();
            m_available->clear();
            for (const QJsonValue &v : std::as_const(r->skills)) {
                const QJsonObject s = v.toObject();
                const QString id = s.value(QStringLiteral("id")).toString();
                m_names.insert(id, s.value(QStringLiteral("display_name")).toString());
                m_available->addItem(tr("%1 (%2)").arg(m_names.value(id), id), id);
            }
            m_available->setCurrentIndex(std::max(0, m_available->findData(keep)));
            // Rows shown before the list arrived get their names and versions now.
            for (int row = 0; row < m_table->rowCount(); ++row) {
                const QString id = m_table->item(row, 0)->data(Qt::UserRole).toString();
                if (m_names.contains(id))
                    m_table->item(row, 0)->setText(m_names.value(id));
                auto *combo = qobject_cast<QComboBox *>(m_table->cellWidget(row, 1));
                fillVersions(combo, id, combo->currentData().toString());
            }
            updateState();
        });
}

void SkillsPicker::fillVersions(QComboBox *combo, const QString &skillId, const QString &version)
{
    const QSignalBlocker block(combo);
    combo->clear();
    combo->addItem(tr("latest"), kLatest);
    for (const QString &v : m_versions.value(skillId))
        combo->addItem(v, v);
    if (combo->findData(version) < 0)
        combo->addItem(version, version); // a pinned version the list does not (yet) show
    combo->setCurrentIndex(combo->findData(version));
}

void SkillsPicker::addRow(const QString &skillId, const QString &version)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    // The version first: setting the item announces the row (itemChanged) to whoever reads skills().
    auto *combo = new QComboBox(m_table);
    combo->setObjectName(QStringLiteral("agentSkillVersion"));
    fillVersions(combo, skillId, version.isEmpty() ? kLatest : version);
    connect(combo, &QComboBox::currentIndexChanged, this, &SkillsPicker::edited);
    m_table->setCellWidget(row, 1, combo);
    auto *item = new QTableWidgetItem(m_names.value(skillId, skillId));
    item->setData(Qt::UserRole, skillId);
    item->setToolTip(skillId);
    m_table->setItem(row, 0, item);
}

void SkillsPicker::setSkills(const QJsonArray &skills)
{
    m_table->setRowCount(0);
    m_other = {};
    m_hadSkills = !skills.isEmpty();
    for (const QJsonValue &v : skills) {
        const QJsonObject s = v.toObject();
        if (s.value(QStringLiteral("type")).toString() == u"custom")
            addRow(s.value(QStringLiteral("skill_id")).toString(), s.value(QStringLiteral("version")).toString());
        else
            m_other.append(s);
    }
    updateState();
}

QJsonArray SkillsPicker::skills() const
{
    QJsonArray out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        auto *combo = qobject_cast<QComboBox *>(m_table->cellWidget(row, 1));
        if (!combo || !m_table->item(row, 0))
            continue; // a row being added
        QJsonObject s{{QStringLiteral("type"), QStringLiteral("custom")},
                      {QStringLiteral("skill_id"), m_table->item(row, 0)->data(Qt::UserRole).toString()}};
        s.insert(QStringLiteral("version"), combo->currentData().toString()); // as the backend stores it
        out.append(s);
    }
    for (const QJsonValue &v : m_other)
        out.append(v);
    return out;
}

void SkillsPicker::updateState()
{
    const int count = m_table->rowCount() + int(m_other.size());
    m_add->setEnabled(count < kMaxSkills && m_available->count() > 0);
    m_remove->setEnabled(m_table->currentRow() >= 0);
    m_count->setText(count >= kMaxSkills ? tr("%1 of %2 skills: the limit is reached.").arg(count).arg(kMaxSkills)
                                         : tr("%1 of %2 skills.").arg(count).arg(kMaxSkills));
    if (m_available->count() == 0)
        m_count->setText(m_count->text() + u' ' + tr("Upload skills on the Skills page."));
}

} // namespace viv
