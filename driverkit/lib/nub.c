/* SPDX-License-Identifier: MIT */
/* The provider nub as START described it, read-only for the driver. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <udk/util.h>

#include "driver-private.h"

UDK_EXPORT udk_object_id udk_nub_id(const struct udk_nub *nub)
{
        return nub ? nub->id : UDK_OBJECT_ID_INVALID;
}

UDK_EXPORT const char *udk_nub_name(const struct udk_nub *nub)
{
        return nub ? nub->name : NULL;
}

UDK_EXPORT const char *udk_nub_family(const struct udk_nub *nub)
{
        return nub ? nub->family : NULL;
}

UDK_EXPORT const char *udk_nub_property(const struct udk_nub *nub, const char *key)
{
        if (!nub || !key)
                return NULL;
        for (size_t i = 0; i < nub->n_props; i++)
                if (strcmp(nub->props[i].key, key) == 0)
                        return nub->props[i].value;
        return NULL;
}

UDK_EXPORT int udk_nub_property_u64(const struct udk_nub *nub, const char *key, uint64_t *ret)
{
        const char *text = udk_nub_property(nub, key);
        unsigned long long v;
        char *end = NULL;

        if (!ret)
                return -EINVAL;
        if (!text)
                return -ENOENT;
        /* strtoull takes a sign and leading blanks: a property value has neither. */
        if (text[0] < '0' || text[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(text, &end, 0);
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

UDK_EXPORT size_t udk_nub_n_properties(const struct udk_nub *nub)
{
        return nub ? nub->n_props : 0;
}

UDK_EXPORT int udk_nub_property_at(const struct udk_nub *nub, size_t index, const char **ret_key,
                                   const char **ret_value)
{
        if (!nub)
                return -EINVAL;
        if (index >= nub->n_props)
                return -ENOENT;
        if (ret_key)
                *ret_key = nub->props[index].key;
        if (ret_value)
                *ret_value = nub->props[index].value;
        return 0;
}

UDK_EXPORT int udk_nub_fd(const struct udk_nub *nub, unsigned index)
{
        if (!nub || index >= nub->n_fds)
                return -1;
        return nub->fds[index];
}

UDK_EXPORT unsigned udk_nub_n_fds(const struct udk_nub *nub)
{
        return nub ? nub->n_fds : 0;
}
