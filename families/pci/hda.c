/* SPDX-License-Identifier: MIT */
/*
 * The PCI family's example: an HD-audio controller (class 0x0403,
 * pci-hda.conf).  It reads the function's config space and checks its
 * vendor, device and revision against the nub's, maps BAR0, and creates
 * an audio device in udkd named after the nub, uid "pci-hda:<nub>", on
 * the virtual backend with a gain handler.  Its control:
 *   volume   -60..0 dB, held by the device in the 32-bit register at BAR0
 *            offset property.register (else 0x0) as attenuation in tenths
 *            of a dB (200: -20.0 dB); it drives gain.level
 *   interrupts  the function's interrupt count, as the provider reports
 *            it (UIO or VFIO; absent without either), each interrupt and
 *            each missed one logged
 * The register is read once at start; a client's change writes it.  That
 * register is the example's emulated device's (tests/fixtures/pci-hda.
 * umockdev), not one of the HD-audio specification.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <udk/driver.h>
#include <udk/pci.h>
#include <udk/util.h>

#define VOLUME_MIN_DB (-60.0)
#define VOLUME_MAX_DB 0.0
#define TENTHS_MAX    600u /* -60.0 dB */
#define COUNT_MAX     4294967295.0 /* UIO's count is 32 bits */

struct hda {
        struct udk_driver *drv;
        struct udk_pci_device *pci;
        udk_object_id device;
        int64_t reg;
        bool interrupts;
};

/* The provider's interrupt: its count into the control.  The emulated device has no cause to clear. */
static void hda_interrupt(void *data, int status, uint64_t count, uint64_t missed)
{
        struct hda *h = data;
        char text[32];

        if (status < 0)
                return; /* the provider said why */
        udk_driver_log(h->drv, UDK_LOG_INFO, "interrupt %llu, %llu missed", (unsigned long long)count,
                       (unsigned long long)missed);
        snprintf(text, sizeof(text), "%llu", (unsigned long long)count);
        if (udk_driver_device_set_control(h->drv, h->device, "interrupts", text) < 0)
                udk_driver_log(h->drv, UDK_LOG_WARN, "interrupts %s not shown: %s", text,
                               udk_driver_error(h->drv));
}

/* The nub's @key against config space's @size bytes at @offset: a driver that maps a function's
 * registers wants the function it was matched to. */
static int hda_config_check(struct hda *h, const struct udk_nub *nub, const char *key, uint32_t offset,
                            unsigned size, uint32_t *ret)
{
        uint64_t want;
        int r = udk_pci_config_read(h->pci, offset, size, ret);

        if (r < 0) {
                udk_driver_log(h->drv, UDK_LOG_ERROR, "config space: %s at 0x%02x not read: %s", key,
                               (unsigned)offset, strerror(-r));
                return r;
        }
        if (udk_nub_property_u64(nub, key, &want) < 0 || want != *ret) {
                udk_driver_log(h->drv, UDK_LOG_ERROR, "config space: %s is 0x%0*x, the nub says %s", key,
                               (int)size * 2, (unsigned)*ret,
                               udk_nub_property(nub, key) ? udk_nub_property(nub, key) : "none");
                return -ENODEV;
        }
        return 0;
}

static int hda_start(struct udk_driver *drv, void *state, const struct udk_nub *provider)
{
        struct hda *h = state;
        const char *reg = udk_driver_personality_property(drv, "register");
        uint32_t vendor, device, revision, raw;
        double volume_db;
        char text[512];
        int r;

        h->drv = drv;
        h->reg = 0;
        if (reg && (udk_parse_int64(reg, 0, UINT32_MAX, &h->reg) < 0 || h->reg % 4)) {
                udk_driver_log(drv, UDK_LOG_ERROR, "property.register '%s' is not a 4-byte aligned offset",
                               reg);
                return -EINVAL;
        }
        r = udk_pci_device_open(drv, provider, &h->pci);
        if (r < 0)
                return r;
        if ((r = hda_config_check(h, provider, "vendor", UDK_PCI_VENDOR_ID, 2, &vendor)) < 0 ||
            (r = hda_config_check(h, provider, "device", UDK_PCI_DEVICE_ID, 2, &device)) < 0 ||
            (r = hda_config_check(h, provider, "revision", UDK_PCI_REVISION_ID, 1, &revision)) < 0)
                goto fail;
        r = udk_pci_device_map_bar(h->pci, 0);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "BAR0 not mapped: %s", strerror(-r));
                goto fail;
        }
        r = udk_pci_bar_read(h->pci, 0, (uint64_t)h->reg, 4, &raw);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "register 0x%llx of BAR0 (%zu bytes): %s",
                               (unsigned long long)h->reg, udk_pci_bar_size(h->pci, 0), strerror(-r));
                goto fail;
        }
        if (raw > TENTHS_MAX)
                udk_driver_log(drv, UDK_LOG_WARN, "register 0x%llx holds 0x%08x, past -60 dB: -60 dB",
                               (unsigned long long)h->reg, (unsigned)raw);
        volume_db = -(double)(raw > TENTHS_MAX ? TENTHS_MAX : raw) / 10.0;

        /* From the nub only its name, which udkd let through with letters, digits, '_', '.', '-'. */
        snprintf(text, sizeof(text),
                 "name = %s\n"
                 "uid = pci-hda:%s\n"
                 "backend = virtual\n"
                 "rate = 48000\n"
                 "period = 256\n"
                 "channels = 2\n"
                 "source = sine\n"
                 "level = -6\n"
                 "handlers = gain\n"
                 "gain.level = %g\n",
                 udk_nub_name(provider), udk_nub_name(provider), volume_db);
        r = udk_driver_device_create(drv, text, &h->device);
        if (r < 0) {
                udk_driver_log(drv, UDK_LOG_ERROR, "device pci-hda:%s not created: %s",
                               udk_nub_name(provider), udk_driver_error(drv));
                goto fail;
        }
        r = udk_driver_device_add_level(drv, h->device, "volume", VOLUME_MIN_DB, VOLUME_MAX_DB, volume_db);
        if (r < 0)
                goto fail;
        r = udk_pci_interrupt_start(h->pci, hda_interrupt, h);
        h->interrupts = r == 0;
        if (r == 0)
                r = udk_driver_device_add_number(drv, h->device, "interrupts", 0, COUNT_MAX, 0);
        else if (r == -ENOENT)
                r = 0; /* the provider said why */
        if (r < 0)
                goto fail;
        udk_driver_log(drv, UDK_LOG_INFO,
                       "%s: %04x:%04x revision 0x%02x, BAR0 %zu bytes, register 0x%llx = 0x%08x: %.1f dB%s",
                       udk_nub_name(provider), (unsigned)vendor, (unsigned)device, (unsigned)revision,
                       udk_pci_bar_size(h->pci, 0), (unsigned long long)h->reg, (unsigned)raw, volume_db,
                       h->interrupts ? ", interrupts on" : "");
        return 0;
fail:
        udk_pci_device_close(h->pci);
        h->pci = NULL;
        return r;
}

static void hda_stop(struct udk_driver *drv, void *state)
{
        struct hda *h = state;

        udk_pci_device_close(h->pci);
        h->pci = NULL;
}

/* A client moved volume (udkctl set pci-hda:pci-0000-00-1f.3 volume -30): into the register, then the
 * gain. */
static void hda_control_changed(struct udk_driver *drv, void *state, udk_object_id device,
                                const char *control, const char *value)
{
        struct hda *h = state;
        double db;
        int r;

        /* "-30.0 dB", as udkctl shows it; udkd kept it within -60..0 already. */
        if (strcmp(control, "volume") != 0 || sscanf(value, "%lf", &db) != 1 || !(db >= VOLUME_MIN_DB) ||
            db > VOLUME_MAX_DB)
                return;
        r = udk_pci_bar_write(h->pci, 0, (uint64_t)h->reg, 4, (uint32_t)lround(-db * 10.0));
        if (r < 0) {
                uint32_t tenths;
                char now[32];

                udk_driver_log(drv, UDK_LOG_WARN, "volume %s: register 0x%llx not written: %s", value,
                               (unsigned long long)h->reg, strerror(-r));
                /* The move did not happen: the control goes back to what the register holds, the gain stays. */
                if (udk_pci_bar_read(h->pci, 0, (uint64_t)h->reg, 4, &tenths) == 0 && tenths <= TENTHS_MAX) {
                        snprintf(now, sizeof(now), "%.1f", -(double)tenths / 10.0);
                        if (udk_driver_device_set_control(drv, device, "volume", now) < 0)
                                udk_driver_log(drv, UDK_LOG_WARN, "volume not set back to %s: %s", now,
                                               udk_driver_error(drv));
                }
                return;
        }
        if (udk_driver_device_set_control(drv, device, "gain.level", value) < 0)
                udk_driver_log(drv, UDK_LOG_WARN, "volume %s not applied: %s", value, udk_driver_error(drv));
}

static const struct udk_driver_descriptor hda_descriptor = {
        .abi_version = UDK_DRIVER_ABI_VERSION,
        .name = "pci-hda",
        .description = "an HD-audio controller: a BAR0 register shown as its audio device's volume",
        .state_size = sizeof(struct hda),
        .start = hda_start,
        .stop = hda_stop,
        .control_changed = hda_control_changed,
};

UDK_DRIVER_EXPORT(hda_descriptor);
