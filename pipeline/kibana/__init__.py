"""Kibana 7.17 saved objects (data views and saved searches), generated from pipeline.searches."""
