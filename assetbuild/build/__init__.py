"""Building: a file through check and minify (bundle), the run's typed values (results), the session, the executor and the pipeline."""
