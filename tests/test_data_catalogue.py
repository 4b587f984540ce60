"""The open-data catalogue: /data for people, /data.jsonld (DCAT-AP) for data portals."""

import json
import warnings

import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS

from app.web.data_catalogue import datasets
from tests.factories import make_app

EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, DATA_LICENSE="https://opendatacommons.org/licenses/odbl/1-0/",
                    DATA_ATTRIBUTION="City of Testville, Open Data Team")


def catalogue_graph(client):
    response = client.get("/data.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated",
                                DeprecationWarning)
        return Graph().parse(data=response.get_data(as_text=True), format="json-ld")


def test_the_json_ld_parses_and_names_every_dataset(app, client):
    graph = catalogue_graph(client)
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    found = set(graph.objects(catalogs[0], DCAT.dataset))
    assert found == set(graph.subjects(RDF.type, DCAT.Dataset))
    with app.test_request_context():
        keys = [d.key for d in datasets()]
    assert keys == ["reports", "feeds", "areas", "statistics", "open311"]
    identifiers = {str(graph.value(d, DCTERMS.identifier)) for d in found}
    assert identifiers == set(keys)
    for dataset in found:
        assert graph.value(dataset, DCTERMS.title) and graph.value(dataset, DCTERMS.description)
        assert graph.value(dataset, DCTERMS.accrualPeriodicity) in {
            EU_FREQUENCY.CONT, EU_FREQUENCY.DAILY, EU_FREQUENCY.IRREG}
        assert list(graph.objects(dataset, DCAT.distribution)), dataset


def test_licence_and_attribution_come_from_the_settings(client):
    graph = catalogue_graph(client)
    licence = URIRef("https://opendatacommons.org/licenses/odbl/1-0/")
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        assert graph.value(dataset, DCTERMS.license) == licence
    for distribution in graph.subjects(RDF.type, DCAT.Distribution):
        assert graph.value(distribution, DCTERMS.license) == licence
    assert "City of Testville, Open Data Team" in client.get("/data.jsonld").get_data(
        as_text=True)
    page = client.get("/data").get_data(as_text=True)
    assert 'href="https://opendatacommons.org/licenses/odbl/1-0/" rel="license"' in page
    assert "City of Testville, Open Data Team" in page


def test_every_distribution_and_example_answers(client):
    """Each file a portal would harvest, and each example on the page, is there."""
    graph = catalogue_graph(client)
    urls = {str(graph.value(d, DCAT.downloadURL))
            for d in graph.subjects(RDF.type, DCAT.Distribution)}
    assert len(urls) >= 8
    for url in urls:
        response = client.get(url.removeprefix("http://localhost"))
        assert response.status_code == 200, url
    page = client.get("/data").get_data(as_text=True)
    for key in ("reports", "feeds", "areas", "statistics", "open311"):
        assert f'id="{key}"' in page


def test_the_catalogue_without_attribution_credits_the_site(tmp_path):
    app = make_app(tmp_path, SITE_NAME="Fix Testville")
    document = json.loads(app.test_client().get("/data.jsonld").get_data(as_text=True))
    assert document["dct:publisher"]["foaf:name"] == "Fix Testville"
    assert document["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"


def test_the_catalogue_page_speaks_french(client):
    page = client.get("/data", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Données ouvertes" in page and "Signalements" in page
