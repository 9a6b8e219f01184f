package dev.jvmm.kvm;

import java.util.OptionalInt;

/**
 * One entry of the VM's GSI routing table (api.rst §4.52 KVM_SET_GSI_ROUTING). An irqfd bound to a GSI raises
 * whatever the GSI routes to; routes are replaced as a whole table, so the caller keeps the full list.
 */
public sealed interface IrqRoute {
    int gsi();

    /** GSI to a pin of the in-kernel irqchip (on arm64: irqchip 0, pin = SPI number - 32). */
    record Irqchip(int gsi, int irqchip, int pin) implements IrqRoute {
        public Irqchip {
            if (gsi < 0) throw new IllegalArgumentException("negative gsi " + gsi);
        }
    }

    /**
     * GSI to an MSI write. With a device id (KVM_MSI_VALID_DEVID) the GICv3 ITS translates (devid, data) to an
     * LPI; the devid is fixed when the route is built, so routes are rebuilt when the guest renumbers buses.
     */
    record Msi(int gsi, long address, int data, OptionalInt devid) implements IrqRoute {
        public Msi {
            if (gsi < 0) throw new IllegalArgumentException("negative gsi " + gsi);
        }
    }
}
