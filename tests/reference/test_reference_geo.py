"""Geography: haversine distances and the communes near a point, checked against brute force."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.geo import EARTH_RADIUS_KM, communes_near, distance_km, nearest_commune
from reference.territory import Commune, commune, communes

# No deadline: a slow CI machine is not a failure (timings are the benchmarks' business).
PROPERTY = settings(max_examples=200, deadline=None)


def _at(insee_code: str) -> Commune:
    found = commune(insee_code)
    assert found is not None
    return found


CHAMBERY = _at("73065")
ANNECY = _at("74010")


def test_chambery_to_annecy_is_about_40_km() -> None:
    km = distance_km(CHAMBERY.latitude, CHAMBERY.longitude, ANNECY.latitude, ANNECY.longitude)
    assert 38 < km < 50


def test_known_distances() -> None:
    paris, lyon = (48.8566, 2.3522), (45.7640, 4.8357)
    assert distance_km(*paris, *lyon) == pytest.approx(392, abs=5)
    assert distance_km(*paris, *paris) == 0.0
    assert distance_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert distance_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


latitudes = st.floats(-90, 90)
longitudes = st.floats(-180, 180)


@PROPERTY
@given(lat1=latitudes, lon1=longitudes, lat2=latitudes, lon2=longitudes)
def test_distance_is_symmetric_and_bounded(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = distance_km(lat1, lon1, lat2, lon2)
    assert there == pytest.approx(distance_km(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= there <= math.pi * EARTH_RADIUS_KM + 1e-6


@pytest.mark.parametrize(
    "point", [(91, 0), (-90.5, 0), (0, 180.5), (math.nan, 0), (0, math.nan), (math.inf, 0)]
)
def test_points_off_the_globe_are_refused(point: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match=r"latitude|longitude"):
        distance_km(*point, 45, 6)
    with pytest.raises(ValueError):
        communes_near(*point, 10)
    with pytest.raises(ValueError):
        nearest_commune(*point)


@pytest.mark.parametrize("radius", [-1, math.nan, math.inf])
def test_radius_must_be_finite_and_not_negative(radius: float) -> None:
    with pytest.raises(ValueError, match="radius"):
        communes_near(CHAMBERY.latitude, CHAMBERY.longitude, radius)


def test_communes_near_chambery() -> None:
    hits = communes_near(CHAMBERY.latitude, CHAMBERY.longitude, 5)
    assert hits[0] == (CHAMBERY, 0.0)
    names = {item.name for item, _ in hits}
    assert {"Jacob-Bellecombette", "Barberaz", "Bassens", "Cognin"} <= names
    assert "Annecy" not in names
    distances = [km for _, km in hits]
    assert distances == sorted(distances)
    assert all(km <= 5 for km in distances)


def test_a_zero_radius_finds_only_the_commune_at_the_point() -> None:
    assert communes_near(CHAMBERY.latitude, CHAMBERY.longitude, 0) == [(CHAMBERY, 0.0)]


def test_communes_placed_at_their_departement_centre_are_never_near() -> None:
    # Their point is Chambéry's or Annecy's, yet Bessans lies 100 km away in Haute-Maurienne.
    unlocated = {c for c in communes().values() if c.geo_precision == "departement"}
    assert _at("73040") in unlocated
    for centre in (CHAMBERY, ANNECY):
        hits = {item for item, _ in communes_near(centre.latitude, centre.longitude, 200)}
        assert hits.isdisjoint(unlocated)
        assert len(hits) == 552 - len(unlocated)


def test_the_whole_territory_is_within_200_km_of_chambery() -> None:
    located = [c for c in communes().values() if c.geo_precision != "departement"]
    assert len(communes_near(CHAMBERY.latitude, CHAMBERY.longitude, 200)) == len(located)


@PROPERTY
@given(lat=st.floats(44.5, 47.0), lon=st.floats(5.0, 7.5), radius=st.floats(0, 200))
def test_near_search_matches_brute_force(lat: float, lon: float, radius: float) -> None:
    expected = sorted(
        (
            (item, distance_km(lat, lon, item.latitude, item.longitude))
            for item in communes().values()
            if item.geo_precision != "departement"
        ),
        key=lambda hit: (hit[1], hit[0].insee_code),
    )
    expected = [(item, km) for item, km in expected if km <= radius]
    got = communes_near(lat, lon, radius)
    assert [item for item, _ in got] == [item for item, _ in expected]
    assert [km for _, km in got] == pytest.approx([km for _, km in expected])


def test_nearest_commune() -> None:
    assert nearest_commune(CHAMBERY.latitude, CHAMBERY.longitude) == CHAMBERY
    assert nearest_commune(ANNECY.latitude + 0.001, ANNECY.longitude) == ANNECY
    paris = (48.8566, 2.3522)
    assert nearest_commune(*paris, max_km=50) is None
    far_away = nearest_commune(*paris)
    assert far_away is not None and far_away.geo_precision != "departement"


@PROPERTY
@given(lat=st.floats(44.5, 47.0), lon=st.floats(5.0, 7.5))
def test_nearest_commune_is_the_first_near_hit(lat: float, lon: float) -> None:
    nearest = nearest_commune(lat, lon)
    assert nearest is not None
    radius = distance_km(lat, lon, nearest.latitude, nearest.longitude)
    hits = communes_near(lat, lon, radius + 1e-9)
    assert hits[0][1] == pytest.approx(radius)
    assert nearest_commune(lat, lon, max_km=radius + 1e-9) == nearest
