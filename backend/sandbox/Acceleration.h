#pragma once

#include <QJsonObject>
#include <QString>

namespace viv {

// Which accelerator sandbox VMs run under, and why (DESIGN.md "Acceleration").
//
// The setting (VIVARIUM_SANDBOX_ACCEL, Settings → General) is `auto`, `kvm` or `tcg`. `kvm` and
// `tcg` are obeyed. `auto` must not trust the device node: some machines have a /dev/kvm that
// opens and even runs a few instructions, yet a real guest never comes up under it (nested
// virtualisation without vmx/svm). So `auto` decides in two steps, once per backend start:
//  1. the device probe: /dev/kvm must open read-write and run a tiny real-mode guest to its
//     `hlt` (KVM_CREATE_VM, a vCPU, one page of code, KVM_RUN). Any failure → TCG, with the
//     reason.
//  2. the first boot: while undecided, VMs boot under KVM with a short agent timeout
//     (VIVARIUM_KVM_PROBE_MS, default 20 s; a KVM boot takes 1–2 s). The first VM whose agent
//     answers settles on KVM; the first that dies or stays silent settles on TCG, and every VM
//     that booted under the undecided KVM is booted again under TCG. The rest of this start
//     uses the decision; the next start decides again.
class Acceleration
{
public:
    enum class Mode { Undecided, Kvm, Tcg };

    // `setting`: auto | kvm | tcg (anything else is treated as auto, with a warning).
    // `deviceProbe` runs the device probe (step 1) and returns an empty string when KVM ran the
    // tiny guest, else why not; tests inject their own.
    explicit Acceleration(QString setting, QString (*deviceProbe)() = &probeKvmDevice);

    Mode mode() const { return m_mode; }
    bool useKvm() const { return m_mode != Mode::Tcg; }
    bool deciding() const { return m_mode == Mode::Undecided; }
    const QString &setting() const { return m_setting; }
    const QString &reason() const { return m_reason; }
    // How long a VM's agent may take to answer under the current mode.
    int agentTimeoutMs() const;

    // A VM that booted while undecided: its agent answered after `bootMs` (→ KVM), or it
    // failed with `why` (→ TCG). Each returns true when it changed the decision.
    bool kvmBooted(qint64 bootMs);
    bool kvmFailed(const QString &why);

    // {setting, accelerator: "kvm"|"tcg"|"deciding", reason}: the API, logs and the GUI show it.
    QJsonObject toJson() const;
    QString modeName() const;

    // Step 1 for real: empty when /dev/kvm ran a tiny guest to its hlt, else the reason.
    static QString probeKvmDevice();

private:
    QString m_setting;
    Mode m_mode = Mode::Undecided;
    QString m_reason;
};

} // namespace viv
