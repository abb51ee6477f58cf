/* Floor 2: a cheap sanity check of serialized modules (Module.deserialize
 * and deserialize_file, module.c) before Wasmtime sees the bytes.
 *
 * Wasmtime's deserializer trusts its input: altered bytes can crash the
 * process or run altered machine code.  This check is not authentication;
 * it parses the ELF container with <elf.h> and turns what it can see
 * cheaply (truncation, a foreign or broken ELF, a missing Wasmtime section)
 * into WasmtimeError.  Everything inside the sections stays trusted.
 */
#include "base.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a cheap sanity check of serialized modules ---------------------------
 *
 * Module.deserialize trusts its input exactly as Wasmtime does: the bytes hold
 * machine code that runs as they say, so bytes from an untrusted source can
 * run anything.  This check is no authentication and cannot make such bytes
 * safe.  It catches accidents before Wasmtime sees the bytes: a truncated
 * file, something that is not a Wasmtime artifact at all, an ELF whose
 * header, section table or section bounds are broken.  It reads the ELF
 * container only (<elf.h>: header, section table, section names), never the
 * contents of Wasmtime's sections, and costs a few microseconds however
 * large the artifact is.  What it checks beyond Wasmtime's own parsing came
 * from feeding altered artifacts to Wasmtime 50.0.1: each of those
 * alterations passed Wasmtime's checks and then aborted or crashed the
 * process while loading, on instantiation, or on the first call or trap.
 */

#if defined(__x86_64__)
#define HOST_EM EM_X86_64
#elif defined(__aarch64__)
#define HOST_EM EM_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_EM EM_RISCV
#elif defined(__s390x__)
#define HOST_EM EM_S390
#endif
/* Wasmtime labels artifacts for Pulley, its portable interpreter
 * (Config.target = "pulley64"), as riscv64: see Compiler::object() in
 * wasmtime-environ. */
#define PULLEY_EM EM_RISCV

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ELFDATA ELFDATA2LSB
#else
#define HOST_ELFDATA ELFDATA2MSB
#endif

/* Sections every artifact of Wasmtime 50.0.1 has, even `(module)`, Pulley's
 * and those with debug info.  The engine section identifies a Wasmtime
 * artifact; without each of the others Wasmtime loaded the module and then
 * crashed: no .text aborts on the first call, no .wasmtime.traps raises
 * SIGILL on the first trap, no .rodata.wasm aborts on instantiation. */
static const char *const artifact_required[] = {
    ".wasmtime.engine",
    ".text",
    ".wasmtime.traps",
    ".rodata.wasm",
};

typedef struct {
    uint64_t start, end; /* file bytes [start, end); empty for no bytes */
    const char *name;    /* NUL-terminated, inside the buffer */
} artifact_range;

static int
artifact_by_start(const void *a, const void *b)
{
    const artifact_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int
artifact_by_name(const void *a, const void *b)
{
    return strcmp(((const artifact_range *)a)->name, ((const artifact_range *)b)->name);
}

#define NOT_ARTIFACT "not a serialized Module: "
#define CORRUPT "truncated or corrupt serialized Module: "

/* 0 when `data` looks like an artifact Wasmtime wrote for this host, else
 * WasmtimeError and -1.  Runs with the GIL held: it is quick. */
int
ext_artifact_check(ext_state *st, const unsigned char *data, size_t len)
{
    if (len >= 4 && memcmp(data, "\0asm", 4) == 0) {
        ext_raise_msg(st, NOT_ARTIFACT "these are WebAssembly bytes; compile them "
                                       "with Module(engine, wasm)");
        return -1;
    }
    if (len < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0) {
        ext_raise_msg(st, NOT_ARTIFACT "%s (Module.serialize() writes an ELF file)",
                      len == 0 ? "the data is empty" : "no ELF header");
        return -1;
    }
    Elf64_Ehdr eh;
    if (len < sizeof eh) {
        ext_raise_msg(st, CORRUPT "%zu bytes, shorter than an ELF header", len);
        return -1;
    }
    /* memcpy: the buffer has no alignment we could rely on. */
    memcpy(&eh, data, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != HOST_ELFDATA ||
        eh.e_ident[EI_VERSION] != EV_CURRENT) {
        ext_raise_msg(st, NOT_ARTIFACT "an ELF file of another class, byte order "
                                       "or version than this host's");
        return -1;
    }
    if (eh.e_type != ET_REL) {
        ext_raise_msg(st, NOT_ARTIFACT "%s, while Wasmtime writes a relocatable object",
                      eh.e_type == ET_EXEC   ? "an ELF executable"
                      : eh.e_type == ET_DYN  ? "an ELF shared object or executable"
                      : eh.e_type == ET_CORE ? "an ELF core dump"
                                             : "an ELF file of unknown type");
        return -1;
    }
#ifdef HOST_EM
    if (eh.e_machine != HOST_EM && eh.e_machine != PULLEY_EM) {
        ext_raise_msg(st,
                      NOT_ARTIFACT "machine code for another architecture "
                                   "(ELF machine %u, this host is %u)",
                      (unsigned)eh.e_machine, (unsigned)HOST_EM);
        return -1;
    }
#endif
    if (eh.e_ehsize != sizeof eh || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
        eh.e_shstrndx >= eh.e_shnum) {
        ext_raise_msg(st, CORRUPT "bad ELF header");
        return -1;
    }
    size_t n = eh.e_shnum;
    if (eh.e_shoff > len || n * sizeof(Elf64_Shdr) > len - eh.e_shoff) {
        ext_raise_msg(st,
                      CORRUPT "the section table ends past the end of the data "
                              "(%zu bytes)",
                      len);
        return -1;
    }
    const unsigned char *table = data + eh.e_shoff;

    /* Bounds of a section's bytes, and of the section-name table first: the
     * names are needed to say anything else. */
    Elf64_Shdr names;
    memcpy(&names, table + eh.e_shstrndx * sizeof names, sizeof names);
    if (names.sh_type == SHT_NOBITS || names.sh_offset > len ||
        names.sh_size > len - names.sh_offset || names.sh_size == 0) {
        ext_raise_msg(st,
                      CORRUPT "the section-name table lies outside the data "
                              "(%zu bytes)",
                      len);
        return -1;
    }
    const char *strtab = (const char *)data + names.sh_offset;

    /* n sections, the ELF header and the section table: at most 65537. */
    artifact_range *r = PyMem_New(artifact_range, n + 2);
    if (r == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    size_t nr = 0;
    const char *found[Py_ARRAY_LENGTH(artifact_required)] = {NULL};
    const Elf64_Shdr *text = NULL;
    Elf64_Shdr text_copy;
    for (size_t i = 0; i < n; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, table + i * sizeof sh, sizeof sh);
        if (sh.sh_name >= names.sh_size ||
            memchr(strtab + sh.sh_name, '\0', names.sh_size - sh.sh_name) == NULL) {
            ext_raise_msg(st, CORRUPT "section %zu has no valid name", i);
            goto fail;
        }
        const char *name = strtab + sh.sh_name;
        bool has_bytes = sh.sh_type != SHT_NOBITS && sh.sh_size != 0;
        if (has_bytes && (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)) {
            ext_raise_msg(st,
                          CORRUPT "section %zu ('%.40s') ends past the end of the "
                                  "data (%zu bytes)",
                          i, name, len);
            goto fail;
        }
        for (size_t k = 0; k < Py_ARRAY_LENGTH(artifact_required); k++) {
            if (strcmp(name, artifact_required[k]) == 0) {
                if (sh.sh_type == SHT_NOBITS) {
                    ext_raise_msg(st, CORRUPT "section '%s' has no bytes in the file", name);
                    goto fail;
                }
                found[k] = name;
            }
        }
        if (strcmp(name, ".text") == 0) {
            text_copy = sh;
            text = &text_copy;
        }
        uint64_t start = has_bytes ? sh.sh_offset : 0;
        r[nr++] = (artifact_range){start, has_bytes ? start + sh.sh_size : 0, name};
    }

    /* Two sections of one name, even empty ones: Wasmtime would use the
     * last one and ignore the other. */
    qsort(r, nr, sizeof *r, artifact_by_name);
    for (size_t i = 1; i < nr; i++) {
        if (r[i].name[0] != '\0' && strcmp(r[i - 1].name, r[i].name) == 0) {
            ext_raise_msg(st, CORRUPT "two sections named '%.40s'", r[i].name);
            goto fail;
        }
    }
    for (size_t k = 0; k < Py_ARRAY_LENGTH(artifact_required); k++) {
        if (found[k] == NULL) {
            if (k == 0) {
                ext_raise_msg(st,
                              NOT_ARTIFACT "an ELF object without a '%s' section, "
                                           "so not made by Wasmtime",
                              artifact_required[k]);
            }
            else {
                ext_raise_msg(st, CORRUPT "no '%s' section", artifact_required[k]);
            }
            goto fail;
        }
    }

    /* Wasmtime writes sections side by side; a section moved onto another
     * one, onto the header or onto the section table is corruption. */
    size_t kept = 0;
    for (size_t i = 0; i < nr; i++) {
        if (r[i].end > r[i].start) {
            r[kept++] = r[i];
        }
    }
    nr = kept;
    r[nr++] = (artifact_range){0, sizeof eh, "ELF header"};
    r[nr++] = (artifact_range){eh.e_shoff, eh.e_shoff + n * sizeof(Elf64_Shdr), "section table"};
    qsort(r, nr, sizeof *r, artifact_by_start);
    for (size_t i = 1; i < nr; i++) {
        if (r[i].start < r[i - 1].end) {
            ext_raise_msg(st, CORRUPT "'%.40s' and '%.40s' overlap", r[i - 1].name, r[i].name);
            goto fail;
        }
    }
    PyMem_Free(r);
    r = NULL;

    /* Native code is made executable in place, page by page, and never
     * writable: Wasmtime asserts (aborts) on a .text that is not
     * page-aligned, and jumps into one it left non-executable.  Pulley's
     * .text is bytecode, marked not executable (SHF_WRITE is Wasmtime's
     * mark for it) and never mapped executable. */
    bool exec = (text->sh_flags & SHF_EXECINSTR) != 0;
#ifdef HOST_EM
    if (!exec && eh.e_machine == HOST_EM && HOST_EM != PULLEY_EM) {
        ext_raise_msg(st, CORRUPT "the '.text' section is not executable");
        return -1;
    }
#endif
    if (exec && (text->sh_flags & SHF_WRITE) != 0) {
        ext_raise_msg(st, CORRUPT "the '.text' section is writable");
        return -1;
    }
    long page = sysconf(_SC_PAGESIZE);
    if (exec && page > 0 && text->sh_size != 0 && text->sh_offset % (uint64_t)page != 0) {
        ext_raise_msg(st, CORRUPT "the '.text' section is not page-aligned");
        return -1;
    }
    return 0;

fail:
    PyMem_Free(r);
    return -1;
}

#undef NOT_ARTIFACT
#undef CORRUPT

/* The current OSError as a WasmtimeError that has it as __cause__: Wasmtime's
 * own loader raised WasmtimeError for a missing file, and wasmtime-py too. */
static void
raise_oserror_as_wasmtime_error(ext_state *st)
{
    PyObject *type, *cause, *tb;
    PyErr_Fetch(&type, &cause, &tb);
    PyErr_NormalizeException(&type, &cause, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    ext_raise_msg(st, "cannot read the file: %S", cause);
    PyObject *etype, *exc, *etb;
    PyErr_Fetch(&etype, &exc, &etb);
    PyErr_NormalizeException(&etype, &exc, &etb);
    if (exc != NULL) {
        PyException_SetCause(exc, cause); /* steals cause */
    }
    else {
        Py_XDECREF(cause);
    }
    PyErr_Restore(etype, exc, etb);
}

/* artifact_check() on the file at `path` (bytes from PyUnicode_FSConverter).
 * The file is mapped, not read: the check touches only the pages of the ELF
 * header, the section table and the name table, so a large artifact costs
 * no more than a small one, and deserialize_file keeps what it is for
 * (Wasmtime maps the file and pages it in lazily).  Runs with the GIL held:
 * it is quick. */
int
ext_artifact_check_file(ext_state *st, PyObject *path)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(PyBytes_AS_STRING(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    /* statx (glibc 2.28), not fstat: since glibc 2.33 fstat is a symbol of
     * that version, which would lift the wheel above manylinux_2_28. */
    struct statx sb;
    bool regular = false;
    if (fd >= 0) {
        if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, &sb) == 0) {
            regular = S_ISREG(sb.stx_mode) && sb.stx_size <= SIZE_MAX;
            errno = S_ISDIR(sb.stx_mode) ? EISDIR : 0;
        }
        if (!regular) {
            int saved = errno;
            close(fd);
            fd = -1;
            errno = saved;
        }
    }
    if (fd < 0) {
        PyObject *name =
            PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(path), PyBytes_GET_SIZE(path));
        if (name == NULL) {
            return -1;
        }
        if (errno == 0) {
            ext_raise_msg(st, "cannot read the file: %R is not a regular file", name);
        }
        else {
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, name);
            raise_oserror_as_wasmtime_error(st);
        }
        Py_DECREF(name);
        return -1;
    }
    size_t len = (size_t)sb.stx_size;
    if (len == 0) {
        close(fd);
        return ext_artifact_check(st, (const unsigned char *)"", 0);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) {
        errno = map_errno;
        PyErr_SetFromErrno(PyExc_OSError);
        raise_oserror_as_wasmtime_error(st);
        return -1;
    }
    int res = ext_artifact_check(st, map, len);
    munmap(map, len);
    return res;
}
