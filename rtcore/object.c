/* SPDX-License-Identifier: MIT */
/* Object ids and the fields every udk object shares. */
#include <stdatomic.h>
#include <string.h>

#include <udk/object.h>
#include <udk/util.h>

static _Atomic udk_object_id next_id = 1;

UDK_EXPORT udk_object_id udk_object_id_next(void)
{
        udk_object_id id;

        /* Relaxed: uniqueness needs only the atomicity of the add, no ordering. */
        do
                id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
        while (UDK_UNLIKELY(id == UDK_OBJECT_ID_INVALID)); /* skip 0 when the counter wraps */
        return id;
}

UDK_EXPORT void udk_object_init(struct udk_object *obj, enum udk_object_class klass, udk_object_id parent,
                                const char *name)
{
        if (!obj)
                return;
        memset(obj, 0, sizeof(*obj));
        obj->id = udk_object_id_next();
        obj->klass = klass;
        obj->parent = parent;
        /* A cut name is still a usable name. */
        (void)udk_strlcpy(obj->name, name ? name : "", sizeof(obj->name));
}

UDK_EXPORT const char *udk_object_class_name(enum udk_object_class klass)
{
        static const char *const names[] = {
                [UDK_CLASS_ROOT] = "root",
                [UDK_CLASS_DRIVER] = "driver",
                [UDK_CLASS_DEVICE] = "device",
                [UDK_CLASS_STREAM] = "stream",
                [UDK_CLASS_CONTROL] = "control",
                [UDK_CLASS_HANDLER] = "handler",
        };

        if ((unsigned)klass >= UDK_ELEMENTSOF(names) || !names[klass])
                return "unknown";
        return names[klass];
}
