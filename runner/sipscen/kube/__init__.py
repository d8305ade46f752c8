"""Running sipscen on Kubernetes (docs/KUBERNETES.md).

``manifests``  the ServiceAccount, Role, RoleBinding and Indexed Job of a suite
               or of a distributed load test (pure data: no cluster needed);
``jobindex``   what a pod of that Job is: shard or generator K of N;
``logreport``  the JSON report framed at the end of a pod's log;
``client``     the official ``kubernetes`` client, 403/404 turned into errors;
``collect``    watch a Job's pods to completion, read and merge their reports;
``discovery``  a Kubernetes Service's ready endpoints (EndpointSlices), and the
               destinations sipscen may send to.

The ``kubernetes`` package is an optional extra (``pip install 'sipscen[kube]'``);
only ``client``, ``collect`` and ``discovery`` import it, lazily.
"""
