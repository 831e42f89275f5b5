#include "SettingsDialog.h"

#include "AppSettings.h"
#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "sandbox/SandboxManager.h"
#include "secrets/SecretStore.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonObject>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace viv {

SettingsDialog::SettingsDialog(BackendBridge &bridge, QWidget *parent) : QDialog(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    resize(560, 420);
    const AppSettings s = AppSettings::load();
    auto *layout = new QVBoxLayout(this);
    m_banner = new MessageBanner(this);
    m_banner->setObjectName(QStringLiteral("settingsBanner"));
    layout->addWidget(m_banner);
    auto *tabs = new QTabWidget(this);
    layout->addWidget(tabs, 1);

    auto *providers = new QWidget(tabs);
    auto *pf = new QFormLayout(providers);
    m_anthropicUrl = new QLineEdit(s.anthropicBaseUrl, providers);
    m_anthropicUrl->setObjectName(QStringLiteral("anthropicBaseUrl"));
    m_anthropicKey = new QLineEdit(providers);
    m_anthropicKey->setObjectName(QStringLiteral("anthropicKey"));
    m_anthropicKey->setEchoMode(QLineEdit::Password);
    m_anthropicKey->setPlaceholderText(tr("Stored in the OS keychain — type to replace"));
    m_openAiUrl = new QLineEdit(s.openAiBaseUrl, providers);
    m_openAiUrl->setObjectName(QStringLiteral("openAiBaseUrl"));
    m_openAiKey = new QLineEdit(providers);
    m_openAiKey->setObjectName(QStringLiteral("openAiKey"));
    m_openAiKey->setEchoMode(QLineEdit::Password);
    m_openAiKey->setPlaceholderText(tr("Optional (a local Ollama needs none)"));
    m_openAiModels = new QLineEdit(s.openAiModels.join(QStringLiteral(", ")), providers);
    m_openAiModels->setObjectName(QStringLiteral("openAiModels"));
    m_openAiModels->setPlaceholderText(tr("e.g. llama3.1:8b, qwen2.5-coder"));
    auto *test = new QPushButton(tr("Test connection"), providers);
    test->setObjectName(QStringLiteral("testConnection"));
    m_testResult = new QLabel(providers);
    m_testResult->setObjectName(QStringLiteral("testConnectionResult"));
    m_testResult->setWordWrap(true);
    pf->addRow(new QLabel(tr("<b>Anthropic</b>"), providers));
    pf->addRow(tr("Base URL:"), m_anthropicUrl);
    pf->addRow(tr("API key:"), m_anthropicKey);
    pf->addRow(new QLabel(tr("<b>OpenAI-compatible</b> (Ollama, vLLM, llama.cpp)"), providers));
    pf->addRow(tr("Base URL:"), m_openAiUrl);
    pf->addRow(tr("API key:"), m_openAiKey);
    pf->addRow(tr("Models:"), m_openAiModels);
    auto *testRow = new QHBoxLayout;
    testRow->addWidget(test);
    testRow->addWidget(m_testResult, 1);
    pf->addRow(QString(), testRow);
    tabs->addTab(providers, tr("Providers"));

    auto *general = new QWidget(tabs);
    auto *gf = new QFormLayout(general);
    m_defaultModel = new QComboBox(general);
    m_defaultModel->setObjectName(QStringLiteral("defaultModel"));
    m_defaultModel->setEditable(true);
    m_defaultModel->addItems(AppSettings::anthropicModels());
    m_defaultModel->addItems(s.openAiModels);
    m_defaultModel->setCurrentText(s.defaultModel);
    m_warmPool = new QSpinBox(general);
    m_warmPool->setObjectName(QStringLiteral("warmPoolSize"));
    m_warmPool->setRange(0, 16);
    m_warmPool->setValue(s.warmPoolSize);
    m_cpus = new QSpinBox(general);
    m_cpus->setObjectName(QStringLiteral("vmCpus"));
    m_cpus->setRange(1, 64);
    m_cpus->setValue(s.vmCpus);
    m_memory = new QSpinBox(general);
    m_memory->setObjectName(QStringLiteral("vmMemory"));
    m_memory->setRange(256, 262144);
    m_memory->setSingleStep(256);
    m_memory->setSuffix(tr(" MiB"));
    m_memory->setValue(s.vmMemoryMiB);
    m_disk = new QSpinBox(general);
    m_disk->setObjectName(QStringLiteral("vmDisk"));
    m_disk->setRange(1, 4096);
    m_disk->setSuffix(tr(" GiB"));
    m_disk->setValue(s.vmDiskGiB);
    m_accel = new QComboBox(general);
    m_accel->setObjectName(QStringLiteral("vmAccel"));
    m_accel->addItem(tr("Automatic (KVM when a VM really runs under it, else TCG)"), QStringLiteral("auto"));
    m_accel->addItem(tr("KVM (hardware virtualisation)"), QStringLiteral("kvm"));
    m_accel->addItem(tr("TCG (software emulation: slower, works everywhere)"), QStringLiteral("tcg"));
    m_accel->setCurrentIndex(std::max(0, m_accel->findData(s.vmAccel)));
    m_accelNow = new QLabel(general);
    m_accelNow->setObjectName(QStringLiteral("vmAccelNow"));
    m_accelNow->setWordWrap(true);
    m_bridge.call<QJsonObject>(
        this, [](Backend &b) -> Result<QJsonObject> { return b.sandboxes().acceleration().toJson(); },
        [this](Result<QJsonObject> r) {
            if (r)
                m_accelNow->setText(tr("Now: %1 — %2")
                                        .arg(r->value(QStringLiteral("accelerator")).toString().toUpper(),
                                             r->value(QStringLiteral("reason")).toString()));
        });
    m_port = new QSpinBox(general);
    m_port->setObjectName(QStringLiteral("apiPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(s.apiPort);
    gf->addRow(tr("Default model:"), m_defaultModel);
    gf->addRow(tr("Warm VM pool:"), m_warmPool);
    gf->addRow(tr("VM CPUs:"), m_cpus);
    gf->addRow(tr("VM memory:"), m_memory);
    gf->addRow(tr("VM disk:"), m_disk);
    gf->addRow(tr("VM acceleration:"), m_accel);
    gf->addRow(QString(), m_accelNow);
    gf->addRow(tr("API port:"), m_port);
    auto *note = new QLabel(tr("The API port (unless --listen is given) and the VM acceleration (unless "
                               "VIVARIUM_SANDBOX_ACCEL is set) apply at the next start."),
                            general);
    note->setWordWrap(true);
    gf->addRow(QString(), note);
    tabs->addTab(general, tr("General"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Save)->setObjectName(QStringLiteral("saveSettings"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    connect(test, &QPushButton::clicked, this, &SettingsDialog::testConnection);
}

void SettingsDialog::testConnection()
{
    // The provider's model list: reachable and, when a key is set, accepted. This is the model
    // vendor's server (or a local one), never Vivarium's own API.
    if (!m_net)
        m_net = new QNetworkAccessManager(this);
    QUrl url(m_openAiUrl->text().trimmed());
    if (!url.isValid() || url.scheme().isEmpty()) {
        m_testResult->setText(tr("✗ Enter a URL such as http://127.0.0.1:11434/v1"));
        return;
    }
    url.setPath(url.path().endsWith(u'/') ? url.path() + QStringLiteral("models") : url.path() + QStringLiteral("/models"));
    QNetworkRequest req(url);
    req.setTransferTimeout(8000);
    if (!m_openAiKey->text().isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_openAiKey->text().toUtf8());
    m_testResult->setText(tr("Connecting…"));
    QNetworkReply *reply = m_net->get(req);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() == QNetworkReply::NoError)
            m_testResult->setText(tr("✓ Connected (HTTP %1).").arg(status));
        else
            m_testResult->setText(tr("✗ %1").arg(reply->errorString()));
    });
}

void SettingsDialog::accept()
{
    AppSettings s = AppSettings::load();
    s.anthropicBaseUrl = m_anthropicUrl->text().trimmed();
    s.openAiBaseUrl = m_openAiUrl->text().trimmed();
    s.openAiModels.clear();
    for (const QString &m : m_openAiModels->text().split(u',', Qt::SkipEmptyParts))
        if (!m.trimmed().isEmpty())
            s.openAiModels.append(m.trimmed());
    s.defaultModel = m_defaultModel->currentText().trimmed();
    s.warmPoolSize = m_warmPool->value();
    s.vmCpus = m_cpus->value();
    s.vmMemoryMiB = m_memory->value();
    s.vmDiskGiB = m_disk->value();
    s.vmAccel = m_accel->currentData().toString();
    s.apiPort = m_port->value();
    s.save();
    // The running backend uses the new endpoints from its next model request on, and grows or
    // shrinks its warm pool now.
    const QUrl anthropicUrl(s.anthropicBaseUrl), openAiUrl(s.openAiBaseUrl);
    const int warmPool = s.warmPoolSize;
    m_bridge.callAsync<Ok>(
        this,
        [anthropicUrl, openAiUrl, warmPool](Backend &b, Callback<Ok> done) {
            b.setProviderDefaults(Config::kAnthropicKeyEntry, anthropicUrl, QString());
            b.setProviderDefaults(Config::kOpenAiKeyEntry, openAiUrl, QString());
            b.sandboxes().setWarmPoolSize(warmPool);
            done(Ok{});
        },
        [](Result<Ok>) {});

    QList<QPair<QString, QString>> keys;
    if (!m_anthropicKey->text().isEmpty())
        keys.append({AppSettings::kAnthropicKeyEntry, m_anthropicKey->text()});
    if (!m_openAiKey->text().isEmpty())
        keys.append({AppSettings::kOpenAiKeyEntry, m_openAiKey->text()});
    m_anthropicKey->clear();
    m_openAiKey->clear();
    if (keys.isEmpty()) {
        QDialog::accept();
        return;
    }
    m_pendingWrites = int(keys.size());
    setEnabled(false);
    for (const auto &[entry, secret] : std::as_const(keys)) {
        const QByteArray bytes = secret.toUtf8();
        const QString name = entry;
        m_bridge.callAsync<Ok>(
            this,
            [name, bytes](Backend &b, Callback<Ok> done) {
                b.secrets().write(name, bytes, [&b, name, bytes, done = std::move(done)](Result<Ok> r) {
                    if (r) // in use from the next model request on
                        b.setProviderDefaults(name, QUrl(), QString::fromUtf8(bytes));
                    done(std::move(r));
                });
            },
            [this](Result<Ok> r) {
                if (!r) {
                    setEnabled(true);
                    m_pendingWrites = -1000;
                    m_banner->showError(tr("The key was not saved: no keychain is available (%1). "
                                           "Other settings were saved.")
                                            .arg(r.error().message()));
                    return;
                }
                if (--m_pendingWrites == 0)
                    QDialog::accept();
            });
    }
}

} // namespace viv
