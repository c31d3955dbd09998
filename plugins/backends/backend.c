/* SPDX-License-Identifier: MIT */
/* The table of backends compiled into libudk. */
#include <string.h>

#include <udk/backend.h>
#include <udk/util.h>

static const struct udk_backend_ops *const embedded[] = {
        &udk_backend_virtual,
#ifdef UDK_HAVE_JACK
        &udk_backend_jack,
#endif
#ifdef UDK_HAVE_ALSA
        &udk_backend_alsa,
#endif
};

const struct udk_backend_ops *udk_backend_find(const char *name)
{
        if (!name)
                return NULL;
        for (size_t i = 0; i < UDK_ELEMENTSOF(embedded); i++)
                if (strcmp(embedded[i]->name, name) == 0)
                        return embedded[i];
        return NULL;
}

const struct udk_backend_ops *udk_backend_at(size_t index)
{
        return index < UDK_ELEMENTSOF(embedded) ? embedded[index] : NULL;
}
