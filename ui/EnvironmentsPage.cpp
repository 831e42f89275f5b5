#include "EnvironmentsPage.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "UnsavedChanges.h"
#include "Widgets.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/SandboxManager.h"
#include "services/EnvironmentService.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGroupBox>
#include <QLabel>
#include <QProgressBar>
#include <QTextCursor>
#include <QTimer>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>

namespace viv {

namespace {
const QStringList kManagers = {QStringLiteral("apt"), QStringLiteral("pip"), QStringLiteral("npm"),
                               QStringLiteral("cargo"), QStringLiteral("gem"), QStringLiteral("go")};
}

EnvironmentsPage::EnvironmentsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("environmentsPage"), QStringLiteral("environmentBanner"), parent)
{
    auto [left, leftLayout] = addColumn();
    m_list = named(new QListWidget(left), QStringLiteral("environmentList"));
    auto *newButton = named(new QPushButton(tr("New environment"), left), QStringLiteral("newEnvironmentButton"));
    leftLayout->addWidget(m_list);
    leftLayout->addWidget(newButton);

    auto [right, rightLayout] = addColumn();
    rightLayout->addWidget(banner());

    // The guest image: one for every environment, built once per recipe version.
    auto *imageBox = named(new QGroupBox(tr("Guest image (shared by every environment)"), right),
        QStringLiteral("guestImageBox"));
    auto *imageLayout = new QHBoxLayout(imageBox);
    m_imageState = named(new QLabel(tr("Checking…"), imageBox), QStringLiteral("guestImageState"));
    m_imageState->setWordWrap(true);
    m_imageState->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_imageProgress = named(new QProgressBar(imageBox), QStringLiteral("guestImageProgress"));
    m_imageProgress->setRange(0, 100);
    m_imageProgress->setMaximumWidth(200);
    m_imageProgress->setVisible(false);
    m_imageLog = named(new QPushButton(tr("Show build log"), imageBox), QStringLiteral("guestImageShowLog"));
    m_imageBuild = named(new QPushButton(tr("Build now"), imageBox), QStringLiteral("guestImageBuild"));
    m_imageBuild->setToolTip(tr("Build the guest image now instead of at the first sandbox start "
                                "(takes a few minutes)."));
    imageLayout->addWidget(m_imageState, 1);
    imageLayout->addWidget(m_imageProgress);
    imageLayout->addWidget(m_imageLog);
    imageLayout->addWidget(m_imageBuild);
    rightLayout->addWidget(imageBox);
    connect(m_imageLog, &QPushButton::clicked, this, &EnvironmentsPage::showBuildLog);
    connect(m_imageBuild, &QPushButton::clicked, this, &EnvironmentsPage::buildGuestImage);
    connect(&m_bridge, &BackendBridge::guestImageChanged, this, &EnvironmentsPage::showGuestImage);

    // The selected environment's package layer: its packages installed once on the image.
    auto *layerBox = named(new QGroupBox(tr("Packages of this environment"), right),
        QStringLiteral("environmentLayerBox"));
    auto *layerLayout = new QHBoxLayout(layerBox);
    m_layerState = named(new QLabel(layerBox), QStringLiteral("environmentLayerState"));
    m_layerState->setWordWrap(true);
    m_layerState->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_layerProgress = named(new QProgressBar(layerBox), QStringLiteral("environmentLayerProgress"));
    m_layerProgress->setRange(0, 0); // busy: the install reports no percentage
    m_layerProgress->setMaximumWidth(200);
    m_layerProgress->setVisible(false);
    m_layerLog = named(new QPushButton(tr("Show build log"), layerBox), QStringLiteral("environmentLayerShowLog"));
    m_layerBuild = named(new QPushButton(tr("Build now"), layerBox), QStringLiteral("environmentLayerBuild"));
    layerLayout->addWidget(m_layerState, 1);
    layerLayout->addWidget(m_layerProgress);
    layerLayout->addWidget(m_layerLog);
    layerLayout->addWidget(m_layerBuild);
    rightLayout->addWidget(layerBox);
    connect(m_layerLog, &QPushButton::clicked, this, &EnvironmentsPage::showLayerLog);
    connect(m_layerBuild, &QPushButton::clicked, this, &EnvironmentsPage::buildLayer);
    connect(&m_bridge, &BackendBridge::environmentLayerChanged, this,
            [this](const QString &hash, const QString &state, const QString &text) {
                if (!m_layerHash.isEmpty() && hash == m_layerHash)
                    showLayer(state, text);
            });
    auto *scroll = new QScrollArea(right);
    scroll->setWidgetResizable(true);
    auto *formWidget = new QWidget(scroll);
    auto *form = new QFormLayout(formWidget);
    m_name = named(new QLineEdit(formWidget), QStringLiteral("environmentName"));
    m_description = named(new QLineEdit(formWidget), QStringLiteral("environmentDescription"));
    m_networking = named(new QComboBox(formWidget), QStringLiteral("environmentNetworking"));
    m_networking->addItem(tr("Unrestricted"), QStringLiteral("unrestricted"));
    m_networking->addItem(tr("Limited to allowed hosts"), QStringLiteral("limited"));
    m_hosts = named(new QPlainTextEdit(formWidget), QStringLiteral("environmentAllowedHosts"));
    m_hosts->setPlaceholderText(tr("One host per line, e.g. api.example.com"));
    m_hosts->setMaximumHeight(80);
    m_allowMcp = new QCheckBox(tr("Allow the agent's MCP servers"), formWidget);
    m_allowPackages = new QCheckBox(tr("Allow package registries"), formWidget);
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Description:"), m_description);
    form->addRow(tr("Net&working:"), m_networking);
    form->addRow(tr("Allowed hosts:"), m_hosts);
    form->addRow(QString(), m_allowMcp);
    form->addRow(QString(), m_allowPackages);
    for (const QString &manager : kManagers) {
        auto *edit = new QLineEdit(formWidget);
        edit->setObjectName(QStringLiteral("environmentPackages_") + manager);
        edit->setPlaceholderText(tr("space-separated package names"));
        m_packages.insert(manager, edit);
        form->addRow(tr("%1 packages:").arg(manager), edit);
    }
    m_template = named(new QLineEdit(formWidget), QStringLiteral("environmentBaseTemplate"));
    m_template->setPlaceholderText(tr("default guest image"));
    form->addRow(tr("Base &template:"), m_template);
    m_metadata = new KeyValueEditor(formWidget);
    m_metadata->setMinimumHeight(100);
    form->addRow(tr("Metadata:"), m_metadata);
    scroll->setWidget(formWidget);
    rightLayout->addWidget(scroll, 1);
    m_archive = named(new QPushButton(tr("Archive…"), right), QStringLiteral("archiveEnvironment"));
    m_delete = named(new QPushButton(tr("Delete…"), right), QStringLiteral("deleteEnvironment"));
    m_save = named(new QPushButton(tr("Save"), right), QStringLiteral("saveEnvironment"));
    m_unsaved = new UnsavedChanges(
        this, QStringLiteral("environmentUnsaved"), [this] { return formParams(); },
        [this] {
            const QString typed = m_name->text().trimmed();
            if (m_id.isEmpty())
                return typed.isEmpty() ? tr("The new environment") : tr("The new environment “%1”").arg(typed);
            return tr("The environment “%1”").arg(m_loadedName);
        },
        [this] { save(); });
    m_unsaved->watch(formWidget);
    m_unsaved->setList(m_list, [this] { return m_id; });
    rightLayout->addLayout(buttonRow({m_archive, m_delete}, {m_unsaved->marker(), m_save}));
    setColumnSizes({260, 800});

    auto updateHosts = [this] {
        const bool limited = m_networking->currentData().toString() == u"limited";
        m_hosts->setEnabled(limited);
        m_allowMcp->setEnabled(limited);
        m_allowPackages->setEnabled(limited);
    };
    connect(m_networking, &QComboBox::currentIndexChanged, this, updateHosts);
    connect(newButton, &QPushButton::clicked, this, [this] { m_unsaved->proceed([this] { newEnvironment(); }); });
    connect(m_save, &QPushButton::clicked, this, &EnvironmentsPage::save);
    connect(m_archive, &QPushButton::clicked, this, &EnvironmentsPage::archive);
    connect(m_delete, &QPushButton::clicked, this, &EnvironmentsPage::remove);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (!item || item->data(Qt::UserRole).toString() == m_id)
            return;
        const QString id = item->data(Qt::UserRole).toString();
        if (!m_unsaved->proceed([this, id] { openEnvironment(id); }))
            QTimer::singleShot(0, this, [this] { // Cancel: back to the one being edited
                const QSignalBlocker block(m_list);
                if (m_id.isEmpty())
                    m_list->setCurrentItem(nullptr);
                else
                    selectItem(m_list, m_id);
            });
    });
    connect(&m_bridge, &BackendBridge::environmentChanged, this,
            [this](const QString &id, const QJsonObject &env) {
                upsert(id, env, false);
                // Its packages may have changed (here or through the API): another layer.
                const QJsonObject config = env.value(QStringLiteral("config")).toObject();
                if (!m_id.isEmpty() && id == m_id && config != m_layerConfig) {
                    m_layerConfig = config;
                    reloadLayer();
                }
            });
    connect(&m_bridge, &BackendBridge::environmentRemoved, this,
            [this](const QString &id) { removeItem(m_list, id); });
    newEnvironment();
    updateHosts();
}

void EnvironmentsPage::upsert(const QString &id, const QJsonObject &env, bool atEnd)
{
    upsertItem(m_list, id, env.value(QStringLiteral("name")).toString(),
               !env.value(QStringLiteral("archived_at")).isNull(), atEnd, m_id);
}

void EnvironmentsPage::reload()
{
    reloadGuestImage();
    reloadList(
        m_list, [](Backend &b, const PageRequest &req) { return b.environments().list(req, false); },
        [this](const QJsonObject &env) { upsert(env.value(QStringLiteral("id")).toString(), env, true); });
}

void EnvironmentsPage::newEnvironment()
{
    m_id.clear();
    m_loadedMetadata = {};
    fill({});
    m_archive->setEnabled(false);
    m_delete->setEnabled(false);
    const QSignalBlocker block(m_list);
    m_list->setCurrentItem(nullptr);
    banner()->clear();
}

void EnvironmentsPage::openEnvironment(const QString &id)
{
    request<QJsonObject>(
        [id](Backend &b) { return b.environments().retrieve(id); },
        [this, id](const QJsonObject &r) {
            m_id = id;
            m_loadedMetadata = r.value(QStringLiteral("metadata")).toObject();
            fill(r);
            m_archive->setEnabled(true);
            m_delete->setEnabled(true);
            banner()->clear();
            selectItem(m_list, id);
        });
}

void EnvironmentsPage::fill(const QJsonObject &env)
{
    m_name->setText(env.value(QStringLiteral("name")).toString());
    m_description->setText(env.value(QStringLiteral("description")).toString());
    const QJsonObject config = env.value(QStringLiteral("config")).toObject();
    const QJsonObject net = config.value(QStringLiteral("networking")).toObject();
    m_networking->setCurrentIndex(
        std::max(0, m_networking->findData(net.value(QStringLiteral("type")).toString(QStringLiteral("unrestricted")))));
    QStringList hosts;
    for (const auto &h : net.value(QStringLiteral("allowed_hosts")).toArray())
        hosts.append(h.toString());
    m_hosts->setPlainText(hosts.join(u'\n'));
    m_allowMcp->setChecked(net.value(QStringLiteral("allow_mcp_servers")).toBool());
    m_allowPackages->setChecked(net.value(QStringLiteral("allow_package_managers")).toBool());
    const QJsonObject packages = config.value(QStringLiteral("packages")).toObject();
    for (auto it = m_packages.begin(); it != m_packages.end(); ++it) {
        QStringList names;
        for (const auto &p : packages.value(it.key()).toArray())
            names.append(p.toString());
        it.value()->setText(names.join(u' '));
    }
    m_template->setText(config.value(QStringLiteral("base_template")).toString());
    m_metadata->setValues(env.value(QStringLiteral("metadata")).toObject());
    m_loadedName = env.value(QStringLiteral("name")).toString();
    m_layerConfig = config;
    reloadLayer();
    m_unsaved->markClean();
}

QJsonObject EnvironmentsPage::formParams() const
{
    QJsonObject net{{QStringLiteral("type"), m_networking->currentData().toString()}};
    if (m_networking->currentData().toString() == u"limited") {
        QJsonArray hosts;
        for (const QString &h : m_hosts->toPlainText().split(u'\n', Qt::SkipEmptyParts))
            if (!h.trimmed().isEmpty())
                hosts.append(h.trimmed());
        net.insert(QStringLiteral("allowed_hosts"), hosts);
        net.insert(QStringLiteral("allow_mcp_servers"), m_allowMcp->isChecked());
        net.insert(QStringLiteral("allow_package_managers"), m_allowPackages->isChecked());
    }
    QJsonObject packages{{QStringLiteral("type"), QStringLiteral("packages")}};
    for (auto it = m_packages.begin(); it != m_packages.end(); ++it) {
        QJsonArray names;
        for (const QString &p : it.value()->text().split(QRegularExpression(QStringLiteral("[\\s,]+")), Qt::SkipEmptyParts))
            names.append(p);
        packages.insert(it.key(), names);
    }
    QJsonObject config{{QStringLiteral("type"), QStringLiteral("cloud")},
                       {QStringLiteral("networking"), net},
                       {QStringLiteral("packages"), packages}};
    if (!m_template->text().trimmed().isEmpty())
        config.insert(QStringLiteral("base_template"), m_template->text().trimmed());
    QJsonObject p{{QStringLiteral("name"), m_name->text().trimmed()}, {QStringLiteral("config"), config}};
    const QString description = m_description->text().trimmed();
    p.insert(QStringLiteral("description"), description.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(description));
    QJsonObject md = m_metadata->values();
    for (auto it = m_loadedMetadata.begin(); it != m_loadedMetadata.end(); ++it)
        if (!md.contains(it.key()) && !m_id.isEmpty())
            md.insert(it.key(), QJsonValue::Null);
    p.insert(QStringLiteral("metadata"), md);
    return p;
}

void EnvironmentsPage::save()
{
    const QString id = m_id;
    const QJsonObject params = formParams();
    request<QJsonObject>(
        [id, params](Backend &b) {
            return id.isEmpty() ? b.environments().create(params) : b.environments().update(id, params);
        },
        [this, id](const QJsonObject &r) {
            m_id = r.value(QStringLiteral("id")).toString();
            m_loadedMetadata = r.value(QStringLiteral("metadata")).toObject();
            m_loadedName = r.value(QStringLiteral("name")).toString();
            m_layerConfig = r.value(QStringLiteral("config")).toObject();
            reloadLayer();
            m_archive->setEnabled(true);
            m_delete->setEnabled(true);
            banner()->showInfo(id.isEmpty() ? tr("Environment created.") : tr("Environment saved."));
            m_unsaved->saveSucceeded();
        },
        m_save);
}

void EnvironmentsPage::archive()
{
    if (m_id.isEmpty() || !confirm(this, tr("Archive environment"),
                                   tr("Archive “%1”? It can no longer start sessions.").arg(m_name->text())))
        return;
    const QString id = m_id;
    request<QJsonObject>(
        [id](Backend &b) { return b.environments().archive(id); },
        [this](const QJsonObject &) {
            newEnvironment();
            banner()->showInfo(tr("Environment archived."));
        });
}

void EnvironmentsPage::remove()
{
    if (m_id.isEmpty() || !confirm(this, tr("Delete environment"),
                                   tr("Delete “%1” permanently?").arg(m_name->text())))
        return;
    const QString id = m_id;
    request<QJsonObject>(
        [id](Backend &b) { return b.environments().remove(id); },
        [this](const QJsonObject &) {
            newEnvironment();
            banner()->showInfo(tr("Environment deleted."));
        });
}

void EnvironmentsPage::reloadGuestImage()
{
    struct ImageStatus
    {
        QString state, text, version, logPath;
        int percent = 0;
    };
    m_bridge.call<ImageStatus>(
        this,
        [](Backend &b) -> Result<ImageStatus> {
            const GuestImage &image = b.sandboxes().image();
            ImageStatus st{BackendBridge::guestImageStateName(image.state()), image.statusText(),
                           image.version(), image.logPath(), image.progress()};
            // Not asked for yet in this run: a cached build of this recipe is ready to use.
            if (image.state() == GuestImage::State::Unknown && !image.version().isEmpty()
                && QFileInfo::exists(image.dir() + QStringLiteral("/VERSION")))
                st.state = QStringLiteral("ready");
            return st;
        },
        [this](Result<ImageStatus> r) {
            if (!r) {
                m_imageState->setText(tr("Cannot read the guest image's state: %1").arg(errorText(r.error())));
                return;
            }
            m_imageVersion = r->version;
            m_imageLogPath = r->version.isEmpty() ? QString() : r->logPath;
            showGuestImage(r->state, r->percent, r->text);
        });
}

void EnvironmentsPage::showGuestImage(const QString &state, int percent, const QString &text)
{
    const QString version = m_imageVersion.isEmpty() ? QString() : tr(" (version %1)").arg(m_imageVersion);
    if (m_imageVersion.isEmpty() && state != u"building")
        m_imageState->setText(tr("The guest image recipe is missing: sandboxes cannot start. "
                                 "Set VIVARIUM_GUEST_RECIPE_DIR or reinstall Vivarium."));
    else if (state == u"building")
        m_imageState->setText(tr("Building%1: %2").arg(version, text));
    else if (state == u"ready")
        m_imageState->setText(tr("● Ready%1").arg(version));
    else if (state == u"failed")
        m_imageState->setText(tr("The build failed: %1").arg(text));
    else
        m_imageState->setText(tr("Not built yet%1: it is built when the first sandbox starts, "
                                 "or now with “Build now” (a few minutes).").arg(version));
    m_imageState->setStyleSheet(state == u"failed" ? QStringLiteral("QLabel { color: #b71c1c; }") : QString());
    m_imageProgress->setVisible(state == u"building");
    m_imageProgress->setValue(std::clamp(percent, 0, 100));
    m_imageBuild->setEnabled(!m_imageVersion.isEmpty() && (state == u"unknown" || state == u"failed"));
    m_imageLog->setEnabled(!m_imageLogPath.isEmpty()
                           && (state == u"building" || QFileInfo::exists(m_imageLogPath)));
}

void EnvironmentsPage::buildGuestImage()
{
    m_imageBuild->setEnabled(false);
    m_bridge.callAsync<Ok>(
        this,
        [](Backend &b, Callback<Ok> done) {
            b.sandboxes().image().ensure([done](const QString &error) {
                done(error.isEmpty() ? Status(Ok{}) : Status(ApiError::unavailable(error)));
            });
        },
        [this](Status s) {
            if (!s)
                banner()->showError(tr("Building the guest image failed: %1").arg(s.error().message()));
            else
                banner()->showInfo(tr("The guest image is ready."));
            reloadGuestImage();
        });
}

void EnvironmentsPage::showBuildLog()
{
    openLogDialog(m_imageLogPath, tr("Guest image build log"), QStringLiteral("guestImageLogDialog"),
                  QStringLiteral("guestImageLog"));
}

void EnvironmentsPage::showLayerLog()
{
    openLogDialog(m_layerLogPath, tr("Package layer build log"), QStringLiteral("environmentLayerLogDialog"),
                  QStringLiteral("environmentLayerLog"));
}

void EnvironmentsPage::openLogDialog(const QString &logPath, const QString &title, const QString &dialogName,
                                     const QString &textName)
{
    if (logPath.isEmpty())
        return;
    auto *dialog = new QDialog(this);
    dialog->setObjectName(dialogName);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(title);
    dialog->resize(820, 560);
    auto *layout = new QVBoxLayout(dialog);
    auto *path = new QLabel(QDir::toNativeSeparators(logPath), dialog);
    path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *text = new QPlainTextEdit(dialog);
    text->setObjectName(textName);
    text->setReadOnly(true);
    text->setLineWrapMode(QPlainTextEdit::NoWrap);
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    layout->addWidget(path);
    layout->addWidget(text, 1);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    // Follows the log while the build runs (re-read when its size changes). The log is a
    // local file written by the build process; only its tail (the last 4 MiB) is shown.
    auto load = [text, logPath, lastSize = qint64(-1)]() mutable {
        QFile file(logPath);
        if (!file.open(QIODevice::ReadOnly)) {
            text->setPlainText(tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(logPath), file.errorString()));
            return;
        }
        if (file.size() == lastSize)
            return;
        lastSize = file.size();
        constexpr qint64 kTail = 4 * 1024 * 1024;
        if (file.size() > kTail)
            file.seek(file.size() - kTail);
        text->setPlainText(QString::fromUtf8(file.readAll()));
        text->moveCursor(QTextCursor::End);
        text->ensureCursorVisible();
    };
    load();
    auto *timer = new QTimer(dialog);
    timer->setInterval(1000);
    connect(timer, &QTimer::timeout, dialog, [load]() mutable { load(); });
    timer->start();
    dialog->show();
}

void EnvironmentsPage::reloadLayer()
{
    const int generation = ++m_layerGeneration;
    // Until the answer comes, no layer's signal belongs to what is shown.
    m_layerHash.clear();
    m_layerLogPath.clear();
    if (m_id.isEmpty()) {
        showLayer(QStringLiteral("none"), QString());
        return;
    }
    struct LayerStatus
    {
        bool available = false;
        QString hash, state, text, logPath;
    };
    const QJsonObject config = m_layerConfig;
    m_bridge.call<LayerStatus>(
        this,
        [config](Backend &b) -> Result<LayerStatus> {
            EnvironmentLayers *layers = b.layers();
            if (!layers)
                return LayerStatus{};
            const EnvironmentLayers::Status st = layers->status(config);
            return LayerStatus{true, st.hash, BackendBridge::environmentLayerStateName(st.state), st.text,
                               st.logPath};
        },
        [this, generation](Result<LayerStatus> r) {
            if (generation != m_layerGeneration)
                return; // another environment is shown by now
            if (!r) {
                m_layerState->setText(tr("Cannot read the package layer's state: %1").arg(errorText(r.error())));
                return;
            }
            m_layersAvailable = r->available;
            m_layerHash = r->hash;
            m_layerLogPath = r->logPath;
            showLayer(r->state, r->text);
        });
}

void EnvironmentsPage::showLayer(const QString &state, const QString &text)
{
    m_layerStateName = state;
    const bool building = state == u"building";
    if (!m_layersAvailable)
        m_layerState->setText(tr("Package layers are off: sandbox tools are disabled (VIVARIUM_SANDBOX_TOOLS=0)."));
    else if (m_id.isEmpty())
        m_layerState->setText(tr("Save the environment to see the state of its packages."));
    else if (m_layerHash.isEmpty())
        m_layerState->setText(tr("No packages — uses the base image"));
    else if (building)
        m_layerState->setText(text.isEmpty() ? tr("Building…") : tr("Building: %1").arg(text));
    else if (state == u"ready")
        m_layerState->setText(tr("Ready"));
    else if (state == u"failed")
        m_layerState->setText(tr("Failed: %1").arg(text));
    else
        m_layerState->setText(tr("Not built yet — builds with the first session"));
    m_layerState->setStyleSheet(state == u"failed" && !m_layerHash.isEmpty()
                                    ? QStringLiteral("QLabel { color: #b71c1c; }")
                                    : QString());
    const bool haveLayer = m_layersAvailable && !m_id.isEmpty() && !m_layerHash.isEmpty();
    m_layerProgress->setVisible(haveLayer && building);
    const bool built = state == u"ready" || state == u"failed";
    m_layerBuild->setText(built ? tr("Rebuild") : tr("Build now"));
    m_layerBuild->setToolTip(built ? tr("Install this environment's packages again (boots a build VM).")
                                   : tr("Install this environment's packages now instead of with its first "
                                        "session (boots a build VM)."));
    m_layerBuild->setEnabled(haveLayer && !building);
    m_layerLog->setEnabled(haveLayer && !m_layerLogPath.isEmpty()
                           && (building || QFileInfo::exists(m_layerLogPath)));
}

void EnvironmentsPage::buildLayer()
{
    if (m_id.isEmpty() || m_layerHash.isEmpty())
        return;
    const bool again = m_layerStateName == u"ready" || m_layerStateName == u"failed";
    const QJsonObject config = m_layerConfig;
    const int generation = m_layerGeneration;
    m_layerBuild->setEnabled(false);
    m_bridge.callAsync<QString>(
        this,
        [config, again](Backend &b, Callback<QString> done) {
            EnvironmentLayers *layers = b.layers();
            if (!layers)
                return done(ApiError::unavailable(QStringLiteral("sandbox tools are disabled (VIVARIUM_SANDBOX_TOOLS=0)")));
            if (again)
                layers->rebuild(config, std::move(done));
            else
                layers->ensure(config, std::move(done));
        },
        [this, generation](Result<QString> r) {
            if (generation == m_layerGeneration) {
                if (!r)
                    banner()->showError(tr("Installing the environment's packages failed: %1").arg(errorText(r.error())));
                else
                    banner()->showInfo(tr("The environment's packages are installed."));
            }
            reloadLayer();
        });
}

} // namespace viv
