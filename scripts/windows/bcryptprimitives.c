/* The one function Rust's std needs from bcryptprimitives.dll, which Wine 8.0 lacks: ProcessPrng,
 * forwarded to RtlGenRandom (advapi32's SystemFunction036). Built with mingw by
 * scripts/windows-check.sh into the Wine prefix's system32; never shipped. */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
    if (!RtlGenRandom(data, n)) return FALSE;
    data += n; len -= n;
  }
  return TRUE;
}
