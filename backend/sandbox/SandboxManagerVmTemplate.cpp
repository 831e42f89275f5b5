#include "SandboxManagerInternal.h"
#include "SaveImage.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QUuid>

// VM templates (DESIGN.md "VM templates"): the first warm VM is saved once; later fresh VMs
// are restored from that state under their own names, disks and UUID, then reseeded.

namespace viv {

using namespace sandbox_internal;

Status sandbox_internal::restoreClone(LibvirtHost *lv, const QString &templateDir, const QString &dir,
                                      const QString &wsDisk, const QByteArray &xml)
{
    const QString root = dir + QStringLiteral("/root.qcow2");
    const QString ws = dir + QStringLiteral("/workspace.qcow2");
    auto undo = [&] {
        QFile::remove(root);
        QFile::remove(ws);
        if (!wsDisk.isEmpty())
            QFile::remove(wsDisk);
    };
    if (!QFile::copy(templateDir + QStringLiteral("/root.qcow2"), root)) {
        undo();
        return ApiError::internal(QStringLiteral("cannot copy the template's root disk into %1").arg(dir));
    }
    QFile::setPermissions(root, QFile::ReadOwner | QFile::WriteOwner);
    if (Status placed = placeWorkspace(templateDir + QStringLiteral("/workspace.qcow2"), dir, wsDisk); !placed) {
        undo();
        return placed;
    }
    Status s =
        saveimage::restoreWithXml(templateDir + QStringLiteral("/state.save"), xml, dir + QStringLiteral("/state.fifo"),
                                  [lv](const QString &path) { return lv->restoreBlocking(path); });
    if (!s)
        undo();
    return s;
}

bool SandboxManager::templateFits(const Vm &vm) const
{
    return m_config.templates && vm.rootDisk.isEmpty() && !vm.rootWritable && !vm.networkLimited
           && (vm.workspaceDisk.isEmpty() || !QFile::exists(vm.workspaceDisk));
}

QStringList SandboxManager::vmNames(const Vm &vm)
{
    // Longest first: the directory and the domain name contain the id.
    return {vm.dir, vm.socket, vm.proxySocket, vm.domain, vm.info.id};
}

QString SandboxManager::templateKey(const Vm &vm, QString xml)
{
    // The domain XML without what differs between VMs: a template serves VMs that would boot
    // with the same kernel, image, memory, CPUs and devices.
    for (const QString &s : vmNames(vm))
        xml.replace(xmlEscaped(s), QStringLiteral("@"));
    return xml;
}

QByteArray SandboxManager::cloneXml(const Vm &vm, const QString &xml) const
{
    if (!m_template.ready || m_template.key != templateKey(vm, xml))
        return {};
    // The template VM's names and paths become this VM's, and it gets a UUID of its own.
    QByteArray clone = m_template.xml;
    const QStringList to = vmNames(vm);
    for (int i = 0; i < m_template.from.size(); ++i)
        clone.replace(xmlEscaped(m_template.from.at(i)).toUtf8(), xmlEscaped(to.at(i)).toUtf8());
    static const QRegularExpression uuid(QStringLiteral("<uuid>[^<]*</uuid>"));
    QString text = QString::fromUtf8(clone);
    text.replace(uuid, QStringLiteral("<uuid>%1</uuid>").arg(QUuid::createUuid().toString(QUuid::WithoutBraces)));
    return text.toUtf8();
}

void SandboxManager::makeTemplate(Vm *vm)
{
    // The pool's first VM, booted and warmed up, becomes the template: libvirt saves its state
    // (QEMU exits), its disks are kept beside it, and the pool refills with clones of it.
    m_template.creating = true;
    vm->templating = true;
    vm->saving = true; // its domain stopping is expected
    vm->channel->detach();
    const QString id = vm->info.id, domain = vm->domain, dir = vm->dir, templateDir = m_template.dir;
    const QString key = templateKey(*vm, domainXml(*vm));
    const QStringList from = vmNames(*vm);
    QElapsedTimer clock;
    clock.start();
    LibvirtHost *lv = m_libvirt;
    m_libvirt->run<QByteArray>(
        [lv, domain, dir, templateDir]() -> Result<QByteArray> {
            QDir(templateDir).removeRecursively();
            if (!QDir().mkpath(templateDir))
                return ApiError::internal(QStringLiteral("cannot create %1").arg(templateDir));
            const QString state = templateDir + QStringLiteral("/state.save");
            Status saved = lv->saveBlocking(domain, state);
            auto header = saved ? saveimage::readHeader(state) : Result<saveimage::Header>(saved.error());
            if (header && QFile::copy(dir + QStringLiteral("/root.qcow2"), templateDir + QStringLiteral("/root.qcow2"))
                && QFile::copy(dir + QStringLiteral("/workspace.qcow2"),
                               templateDir + QStringLiteral("/workspace.qcow2")))
                return header->xml;
            QDir(templateDir).removeRecursively();
            return header ? ApiError::internal(QStringLiteral("cannot copy the VM's disks into %1").arg(templateDir))
                          : header.error();
        },
        [this, id, key, from, clock](Result<QByteArray> r) {
            m_template.creating = false;
            if (r) {
                m_template.xml = *r;
                m_template.key = key;
                m_template.from = from;
                m_template.ready = true;
                qCInfo(lcSandbox).noquote()
                    << QStringLiteral("VM template saved in %1 ms from sandbox %2; fresh VMs are restored from it")
                           .arg(clock.elapsed())
                           .arg(id);
            } else {
                ++m_template.failures;
                qCWarning(lcSandbox).noquote() << "cannot make the VM template:" << r.error().message();
            }
            // The VM itself is done with: its state lives on in the template (or the save failed).
            if (Vm *v = find(id))
                retireWarm(v);
            fillPool();
        });
}

void SandboxManager::dropTemplate(const QString &why)
{
    if (!m_template.ready)
        return;
    qCWarning(lcSandbox).noquote() << "VM template dropped:" << why;
    m_template.ready = false;
    ++m_template.failures; // remade from the next warm VM, a few times at most
    const QString dir = m_template.dir;
    m_libvirt->run<Ok>(
        [dir]() -> Status {
            QDir(dir).removeRecursively();
            return Ok{};
        },
        [](const Status &) {});
}

void SandboxManager::reseed(Vm *vm, std::function<void()> then)
{
    QByteArray seed(64, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(seed.data()),
                                         reinterpret_cast<quint32 *>(seed.data() + seed.size()));
    guestRequest(vm,
                 {{QStringLiteral("op"), QStringLiteral("reseed")},
                  {QStringLiteral("data"), QString::fromLatin1(seed.toBase64())}},
                 [this, then = std::move(then)](Vm *v, const QJsonObject &msg) {
                     if (msg.value(QLatin1String("type")).toString() == QLatin1String("error")) {
                         const QString why = QStringLiteral("its random number generator could not be reseeded: %1")
                                                 .arg(msg.value(QLatin1String("message")).toString());
                         dropTemplate(why);
                         return markDead(v,
                                         QStringLiteral("a VM restored from the template was not used: %1").arg(why));
                     }
                     v->info.fromTemplate = true;
                     syncGuestClock(v, then);
                 });
}

} // namespace viv
