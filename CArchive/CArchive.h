// What NookImages uses of libarchive: the reader and its entries.
#include <archive.h>
#include <archive_entry.h>
