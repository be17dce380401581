# One INTERFACE target carries the project's warnings and sanitizer flags;
# every library and test links it.
add_library(stylesweep_warnings INTERFACE)
target_compile_options(stylesweep_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>)
if(STYLESWEEP_SANITIZE)
  target_compile_options(stylesweep_warnings INTERFACE -fsanitize=${STYLESWEEP_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(stylesweep_warnings INTERFACE -fsanitize=${STYLESWEEP_SANITIZE})
endif()
