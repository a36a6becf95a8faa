# GPAW's build settings for CI (GPAW_CONFIG): serial, against Debian's libxc-dev and libopenblas-dev.
mpi = False
compiler = 'gcc'
libraries = ['xc', 'openblas']
