# The hardening flags Debian builds its packages with (ES_DEB=ON): what
# dpkg-buildflags prints for CPPFLAGS, CFLAGS and LDFLAGS, with every
# hardening feature on (DEB_BUILD_MAINT_OPTIONS=hardening=+all: PIE,
# stack protector, _FORTIFY_SOURCE, format checks, RELRO and BIND_NOW),
# added to the flags of every build type. Set DEB_BUILD_MAINT_OPTIONS
# yourself to choose others; a machine without dpkg-buildflags (not
# Debian) is told to install dpkg-dev.
find_program(DPKG_BUILDFLAGS dpkg-buildflags)
if(NOT DPKG_BUILDFLAGS)
	message(FATAL_ERROR "ES_DEB needs dpkg-buildflags: run "
		"contrib/install-deps (it installs dpkg-dev)")
endif()
if(NOT DEFINED ENV{DEB_BUILD_MAINT_OPTIONS})
	set(ENV{DEB_BUILD_MAINT_OPTIONS} "hardening=+all")
endif()
foreach(var CPPFLAGS CFLAGS LDFLAGS)
	execute_process(COMMAND ${DPKG_BUILDFLAGS} --get ${var}
		WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
		OUTPUT_VARIABLE ES_DPKG_${var} OUTPUT_STRIP_TRAILING_WHITESPACE
		COMMAND_ERROR_IS_FATAL ANY)
endforeach()
message(STATUS "dpkg-buildflags: CPPFLAGS ${ES_DPKG_CPPFLAGS}")
message(STATUS "dpkg-buildflags: CFLAGS ${ES_DPKG_CFLAGS}")
message(STATUS "dpkg-buildflags: LDFLAGS ${ES_DPKG_LDFLAGS}")
string(APPEND CMAKE_C_FLAGS " ${ES_DPKG_CPPFLAGS} ${ES_DPKG_CFLAGS}")
string(APPEND CMAKE_EXE_LINKER_FLAGS " ${ES_DPKG_LDFLAGS}")
string(APPEND CMAKE_SHARED_LINKER_FLAGS " ${ES_DPKG_LDFLAGS}")
