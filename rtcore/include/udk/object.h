/* SPDX-License-Identifier: MIT */
/*
 * The object model every udk object shares: an id, a class, a name and a
 * parent (its provider), as in IORegistry.  Ids are unique in a process and
 * never reused while it runs.
 */
#ifndef UDK_OBJECT_H
#define UDK_OBJECT_H

#include <stdint.h>

typedef uint32_t udk_object_id;

#define UDK_OBJECT_ID_INVALID ((udk_object_id)0)
#define UDK_OBJECT_NAME_MAX   64

enum udk_object_class {
        UDK_CLASS_ROOT = 0,
        UDK_CLASS_DRIVER,
        UDK_CLASS_DEVICE,
        UDK_CLASS_STREAM,
        UDK_CLASS_CONTROL,
        UDK_CLASS_HANDLER,
};

struct udk_object {
        udk_object_id id;
        enum udk_object_class klass;
        udk_object_id parent; /* UDK_OBJECT_ID_INVALID for the root */
        char name[UDK_OBJECT_NAME_MAX];
};

/* A fresh id.  Thread-safe and RT-safe (one atomic add). */
udk_object_id udk_object_id_next(void);

/* Fill @obj with a new id, @klass, @parent and @name (cut to fit). */
void udk_object_init(struct udk_object *obj, enum udk_object_class klass, udk_object_id parent,
                     const char *name);

/* "root", "driver", "device", "stream", "control", "handler". */
const char *udk_object_class_name(enum udk_object_class klass);

#endif
