"""Bayesian fit of the background propagation model to AMS-02 nuclei (issue 15).

``crknee fit propagation`` samples the transport parameters (eq. 2: D0, delta, eta; v_A,
V_c; H), the common injection spectrum (eq. 4: nu1, nu2, R_br), source abundances relative
to O, the force-field potential phi and nuisance parameters of the Li, Be, B production
cross sections, with the exact semi-analytic solver of :mod:`crknee.propagation` at a
coarse "fit resolution".  Modules, one idea each:

* :mod:`~.settings`    the ``[propagation_fit]`` config (defaults in configs/propagation_fit.toml);
* :mod:`~.parameters`  the parameter list, units and priors (a :class:`crknee.fit.parameters.ParameterSet`);
* :mod:`~.data`        which datasets enter, in which window, and the checks of their species;
* :mod:`~.covariance`  AMS-02 systematics as correlated errors;
* :mod:`~.likelihood`  chi2 = r^T C^-1 r by Cholesky and the analytic marginalisation over
                       the linear source normalisations;
* :mod:`~.nuisance`    the cross-section and abundance factors applied inside the solve;
* :mod:`~.model`       parameters -> solution -> predicted observables, the log-posterior;
* :mod:`~.run`         the sampler run (crknee.fit.sampler / crknee.fit.nested) and its outputs;
* :mod:`~.outputs`     posterior table, ``propagation_posterior.toml``, report; :mod:`~.plots` figures.

See docs/propagation_fit.md.
"""
