/* SPDX-License-Identifier: MIT */
/* What a driver asks of udkd: child nubs, audio devices and their controls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "driver-private.h"

static bool handle_known(const struct udk_driver *drv, uint32_t handle, size_t *ret_index)
{
        for (size_t i = 0; i < drv->n_handles; i++)
                if (drv->handles[i] == handle) {
                        if (ret_index)
                                *ret_index = i;
                        return true;
                }
        return false;
}

static int handle_add(struct udk_driver *drv, uint32_t handle)
{
        if (drv->n_handles == drv->handles_cap) {
                size_t cap = drv->handles_cap ? drv->handles_cap * 2 : 8;
                uint32_t *h = realloc(drv->handles, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                drv->handles = h;
                drv->handles_cap = cap;
        }
        drv->handles[drv->n_handles++] = handle;
        return 0;
}

UDK_EXPORT int udk_driver_publish_nub(struct udk_driver *drv, uint32_t handle, const char *family, const char *name,
                                      const struct udk_nub_property *props, size_t n, udk_object_id *ret_id)
{
        struct udk_dmsg_nub m;
        udk_object_id id = UDK_OBJECT_ID_INVALID;
        int r;

        if (!drv || !family || !name || !name[0] || (n > 0 && !props))
                return -EINVAL;
        if (n > UDK_DPROPS_MAX)
                return -E2BIG;
        if (handle_known(drv, handle, NULL))
                return -EEXIST;
        memset(&m, 0, sizeof(m));
        if (udk_strlcpy(m.family, family, sizeof(m.family)) < 0 || udk_strlcpy(m.name, name, sizeof(m.name)) < 0)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < n; i++) {
                if (!props[i].key || !props[i].key[0] || !props[i].value)
                        return -EINVAL;
                if (udk_strlcpy(m.props[i].key, props[i].key, sizeof(m.props[i].key)) < 0 ||
                    udk_strlcpy(m.props[i].value, props[i].value, sizeof(m.props[i].value)) < 0)
                        return -ENAMETOOLONG;
        }
        m.h.type = UDK_DMSG_PUBLISH_NUB;
        m.handle = handle;
        m.n_props = (uint32_t)n;
        r = handle_add(drv, handle); /* room first: a published nub is never forgotten for want of memory */
        if (r < 0)
                return r;
        r = driver_request(drv, &m.h, udk_dmsg_nub_size((uint32_t)n), &id);
        if (r < 0) {
                drv->n_handles--;
                return r;
        }
        if (ret_id)
                *ret_id = id;
        return 0;
}

UDK_EXPORT int udk_driver_remove_nub(struct udk_driver *drv, uint32_t handle)
{
        struct udk_dmsg_nub_ref m;
        size_t index;
        int r;

        if (!drv)
                return -EINVAL;
        if (!handle_known(drv, handle, &index))
                return -ENOENT;
        memset(&m, 0, sizeof(m));
        m.h.type = UDK_DMSG_REMOVE_NUB;
        m.handle = handle;
        r = driver_request(drv, &m.h, sizeof(m), NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        drv->handles[index] = drv->handles[--drv->n_handles];
        return r;
}

UDK_EXPORT int udk_driver_device_create(struct udk_driver *drv, const char *text, udk_object_id *ret_device)
{
        struct udk_dmsg_device m;
        udk_object_id id = UDK_OBJECT_ID_INVALID;
        size_t size;
        int r;

        if (!drv || !text)
                return -EINVAL;
        size = strlen(text) + 1;
        if (size > UDK_DEVICE_TEXT_MAX)
                return -E2BIG;
        memset(&m, 0, offsetof(struct udk_dmsg_device, text));
        m.h.type = UDK_DMSG_DEVICE_CREATE;
        m.text_size = (uint32_t)size;
        memcpy(m.text, text, size);
        r = driver_request(drv, &m.h, udk_dmsg_device_size((uint32_t)size), &id);
        if (r < 0)
                return r;
        if (ret_device)
                *ret_device = id;
        return 0;
}

static int control_add(struct udk_driver *drv, udk_object_id device, const char *name, uint32_t kind, double min,
                       double max, double value)
{
        struct udk_dmsg_control_add m;

        if (!drv || !name || !name[0])
                return -EINVAL;
        memset(&m, 0, sizeof(m));
        if (udk_strlcpy(m.name, name, sizeof(m.name)) < 0)
                return -ENAMETOOLONG;
        m.h.type = UDK_DMSG_CONTROL_ADD;
        m.device = device;
        m.kind = kind;
        m.min = min;
        m.max = max;
        m.value = value;
        return driver_request(drv, &m.h, sizeof(m), NULL);
}

UDK_EXPORT int udk_driver_device_add_level(struct udk_driver *drv, udk_object_id device, const char *name,
                                           double min_db, double max_db, double value_db)
{
        if (!(min_db < max_db) || !(value_db >= min_db && value_db <= max_db))
                return -EINVAL;
        return control_add(drv, device, name, UDK_DCONTROL_LEVEL, min_db, max_db, value_db);
}

UDK_EXPORT int udk_driver_device_add_boolean(struct udk_driver *drv, udk_object_id device, const char *name,
                                             bool value)
{
        return control_add(drv, device, name, UDK_DCONTROL_BOOLEAN, 0, 1, value ? 1 : 0);
}

UDK_EXPORT int udk_driver_device_add_number(struct udk_driver *drv, udk_object_id device, const char *name,
                                            double min, double max, double value)
{
        if (!(min < max) || !(value >= min && value <= max))
                return -EINVAL;
        return control_add(drv, device, name, UDK_DCONTROL_NUMBER, min, max, value);
}

UDK_EXPORT int udk_driver_device_set_control(struct udk_driver *drv, udk_object_id device, const char *control,
                                             const char *value)
{
        struct udk_dmsg_control m;

        if (!drv || !control || !control[0] || !value)
                return -EINVAL;
        memset(&m, 0, sizeof(m));
        if (udk_strlcpy(m.control, control, sizeof(m.control)) < 0 ||
            udk_strlcpy(m.value, value, sizeof(m.value)) < 0)
                return -ENAMETOOLONG;
        m.h.type = UDK_DMSG_CONTROL_SET;
        m.device = device;
        return driver_request(drv, &m.h, sizeof(m), NULL);
}
